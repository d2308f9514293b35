//! The dotted YAML path (`fabric.uplink.bandwidth`, `layers[2].forward`)
//! of a position in a document, recovered from block indentation and flow
//! mappings, for error messages. Best effort: it reads keys and `- ` items,
//! not full YAML, and never fails a load.

/// Recovers the dotted YAML path of the value at (line, column) from block
/// indentation and flow mappings: `fabric.uplink.bandwidth`, `layers[2].forward`.
/// Best effort: it reads keys and `- ` items, not full YAML.
pub fn yaml_path_at(text: &str, line: u32, column: u32) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let idx = (line as usize).checked_sub(1)?;
    let here = *lines.get(idx)?;
    // Segments within the error line, up to the column.
    // The parser counts columns in characters; slice at a byte boundary.
    let chars = column.max(1) as usize - 1;
    let col = here
        .char_indices()
        .nth(chars)
        .map_or(here.len(), |(i, _)| i);
    let mut segments = flow_segments(&here[..col]);
    // Errors about a key (unknown field) point at the key itself.
    if let Some(k) = key_of(&here[col..]).filter(|_| !here[col..].starts_with(' ')) {
        segments.push(k);
    }
    let mut indent = indentation(here);
    let mut line_items: Vec<String> = Vec::new();
    if here.trim_start().starts_with("- ") {
        line_items.push(item_index(&lines, idx, indent));
    }
    // Walk upward collecting the enclosing keys.
    let mut prefix: Vec<String> = Vec::new();
    let mut i = idx;
    while i > 0 && indent > 0 {
        i -= 1;
        let l = lines[i];
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        let ind = indentation(l);
        let body = l.trim_start();
        if ind < indent {
            if let Some(rest) = body.strip_prefix("- ") {
                // A list item; its key is a parent only if it opens a block.
                if rest.trim_end().ends_with(':')
                    && let Some(k) = key_of(rest)
                {
                    prefix.push(k);
                }
                prefix.push(item_index(&lines, i, ind));
            } else if let Some(k) = key_of(body) {
                prefix.push(k);
            }
            indent = ind;
        }
    }
    prefix.reverse();
    let mut parts = prefix;
    parts.append(&mut line_items);
    parts.append(&mut segments);
    let mut out = String::new();
    for p in parts {
        if p.starts_with('[') || out.is_empty() {
            out.push_str(&p);
        } else {
            out.push('.');
            out.push_str(&p);
        }
    }
    (!out.is_empty()).then_some(out)
}

fn indentation(l: &str) -> usize {
    l.len() - l.trim_start_matches(' ').len()
}

fn key_of(body: &str) -> Option<String> {
    let body = body.trim_start_matches("- ");
    let colon = body.find(':')?;
    let key = body[..colon].trim().trim_matches(['"', '\'']);
    (!key.is_empty() && !key.contains(['{', '[', ' '])).then(|| key.to_string())
}

/// `[k]` where k counts the `- ` items at this indentation above line `idx`
/// in the same list.
fn item_index(lines: &[&str], idx: usize, indent: usize) -> String {
    let mut k = 0;
    for l in lines[..idx].iter().rev() {
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        let ind = indentation(l);
        if ind < indent || (ind == indent && !l.trim_start().starts_with("- ")) {
            break;
        }
        if ind == indent {
            k += 1;
        }
    }
    format!("[{k}]")
}

/// Keys of the block line and of the open flow mappings before the column:
/// `nic: { bandwidth: 1` → `["nic", "bandwidth"]`.
fn flow_segments(upto: &str) -> Vec<String> {
    let body = upto.trim_start().trim_start_matches("- ");
    let mut out = Vec::new();
    let mut stack: Vec<(char, usize, Option<String>)> = Vec::new();
    let mut current_key: Option<String> = None;
    let mut token = String::new();
    let mut top_key: Option<String> = None;
    for c in body.chars() {
        match c {
            '{' | '[' => {
                let key = current_key.take();
                stack.push((c, 0, key));
                token.clear();
            }
            '}' | ']' => {
                stack.pop();
                token.clear();
                current_key = None;
            }
            ',' => {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                current_key = None;
                token.clear();
            }
            ':' => {
                let k = token.trim().trim_matches(['"', '\'']).to_string();
                if stack.is_empty() {
                    top_key = Some(k.clone());
                }
                current_key = Some(k);
                token.clear();
            }
            _ => token.push(c),
        }
    }
    if let Some(k) = top_key {
        out.push(k);
    }
    for (kind, n, _) in &stack {
        if *kind == '[' {
            out.push(format!("[{n}]"));
        }
    }
    // Keys of nested flow maps.
    let nested: Vec<String> = stack.iter().skip(1).filter_map(|s| s.2.clone()).collect();
    let insert_at = usize::from(!out.is_empty());
    for (j, k) in nested.into_iter().enumerate() {
        out.insert(insert_at + j, k);
    }
    if !stack.is_empty()
        && let Some(k) = current_key
    {
        out.push(k);
    }
    out
}
