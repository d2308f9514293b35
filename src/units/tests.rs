//! Unit tests of the parent module.
use super::*;

#[test]
fn durations_parse_to_exact_picoseconds() {
    assert_eq!(parse_duration("1us").unwrap(), SimTime(1_000_000));
    assert_eq!(parse_duration("500ns").unwrap(), SimTime(500_000));
    assert_eq!(parse_duration("2ms").unwrap(), SimTime(2_000_000_000));
    assert_eq!(parse_duration("1.5s").unwrap(), SimTime(1_500_000_000_000));
    assert_eq!(parse_duration("0.3us").unwrap(), SimTime(300_000));
    assert_eq!(parse_duration("7ps").unwrap(), SimTime(7));
    assert_eq!(parse_duration("0s").unwrap(), SimTime(0));
}

#[test]
fn a_time_without_unit_is_an_error() {
    assert_eq!(
        parse_duration("10"),
        Err(UnitError::TimeWithoutUnit("10".into()))
    );
    assert!(matches!(
        parse_duration("10 parsecs"),
        Err(UnitError::UnknownUnit { .. })
    ));
    assert!(matches!(
        parse_duration("-1us"),
        Err(UnitError::Negative(..))
    ));
}

#[test]
fn bandwidth_bits_and_bytes() {
    assert_eq!(parse_bandwidth("100Gbps").unwrap().bytes_per_sec(), 12.5e9);
    assert_eq!(parse_bandwidth("100Gb/s").unwrap().bytes_per_sec(), 12.5e9);
    assert_eq!(parse_bandwidth("50GB/s").unwrap().bytes_per_sec(), 50e9);
    assert_eq!(parse_bandwidth("50GBps").unwrap().bytes_per_sec(), 50e9);
    assert_eq!(
        parse_bandwidth("1GiB/s").unwrap().bytes_per_sec(),
        1073741824.0
    );
    assert_eq!(parse_bandwidth("400 Gbps").unwrap().bytes_per_sec(), 50e9);
}

#[test]
fn bad_bandwidths_say_why() {
    assert!(matches!(
        parse_bandwidth("100"),
        Err(UnitError::BandwidthWithoutUnit(_))
    ));
    assert!(matches!(
        parse_bandwidth("0Gbps"),
        Err(UnitError::ZeroBandwidth(_))
    ));
    assert!(matches!(
        parse_bandwidth("-5Gbps"),
        Err(UnitError::Negative(..))
    ));
    assert!(matches!(
        parse_bandwidth("5 furlongs"),
        Err(UnitError::UnknownUnit { .. })
    ));
    assert!(matches!(
        parse_bandwidth("fast"),
        Err(UnitError::NotANumber(_))
    ));
}

#[test]
fn bytes_decimal_and_binary() {
    assert_eq!(parse_bytes("803840").unwrap(), 803840);
    assert_eq!(parse_bytes("25MiB").unwrap(), 25 * 1024 * 1024);
    assert_eq!(parse_bytes("1GB").unwrap(), 1_000_000_000);
    assert_eq!(parse_bytes("1.5KB").unwrap(), 1500);
    assert_eq!(parse_bytes("2e3").unwrap(), 2000);
    assert!(parse_bytes("1.5B").is_err());
    assert!(parse_bytes("3 apples").is_err());
}

#[test]
fn transfer_time_rounds_up() {
    let bw = Bandwidth::new(3.0).unwrap();
    // 1 byte at 3 B/s = 333333333333.33 ps -> rounds up.
    assert_eq!(bw.transfer_time(1), SimTime(333_333_333_334));
    let bw = parse_bandwidth("100Gbps").unwrap();
    assert_eq!(bw.transfer_time(12_500), SimTime::from_us(1));
}

#[test]
fn formatting() {
    assert_eq!(format_secs(0.02), "20.000 ms");
    assert_eq!(format_secs(1.5e-6), "1.500 us");
    assert_eq!(format_bytes(4 * 1024 * 1024), "4 MiB");
    assert_eq!(format_bytes(803840), "785 KiB");
    assert_eq!(format_bytes(2600), "2600 B");
}
