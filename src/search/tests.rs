//! A searched point's figures are `fabsim run`'s: each simulated candidate
//! of the tiny search, run again as a scenario with every output file
//! written, gives the same step, tokens/s, cost and bubble.

use super::*;

#[test]
fn simulated_points_equal_fabsim_run() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/search-tiny.yaml");
    let search = Search::load(&file).unwrap();
    let rows = search.run(&SearchOptions::default()).unwrap();
    let simulated: Vec<&Row> = rows.iter().filter(|r| r.outcome.is_some()).collect();
    assert!(simulated.len() >= 2, "{} simulated", simulated.len());
    let out = tempfile::tempdir().unwrap();
    for r in simulated {
        let overrides = Overrides {
            set: search.overrides(&r.candidate),
            trials: Some(search.trials),
            seed: None,
        };
        let scenario = Scenario::load(&search.base, &overrides).unwrap();
        let options = crate::run::RunOptions {
            out_dir: Some(out.path().join(r.candidate.index.to_string())),
            ..Default::default()
        };
        let s = crate::run::run(&scenario, &options).unwrap().summary;
        let o = r.outcome.as_ref().unwrap();
        assert_eq!(o.step_s, s.iteration.mean_s);
        assert_eq!(o.tokens_per_s, s.tokens_per_s);
        assert_eq!(
            o.usd_per_mtok,
            s.cost.as_ref().and_then(|c| c.per_million_tokens)
        );
        assert_eq!(o.bubble, s.bubble_fraction);
        assert_eq!(o.exposed_s, s.exposed_communication_s);
    }
}
