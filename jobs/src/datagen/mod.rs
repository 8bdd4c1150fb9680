//! TEMPORARY stub until the generators land.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    pub bytes: u64,
    pub records: u64,
}
pub fn yelp(out: &mut dyn std::io::Write, _size: u64, _seed: u64) -> std::io::Result<Generated> {
    out.write_all(b"{\"city\":\"Philadelphia\",\"state\":\"PA\",\"stars\":4.0}\n{\"city\":\"Philadelphia\",\"state\":\"PA\"}\n{\"city\":\"Tucson\"}\n")?;
    Ok(Generated { bytes: 0, records: 3 })
}
pub fn text(out: &mut dyn std::io::Write, _size: u64, _seed: u64) -> std::io::Result<Generated> {
    out.write_all(b"the cat sat on the mat\n")?;
    Ok(Generated { bytes: 0, records: 1 })
}
