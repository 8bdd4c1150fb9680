//! TEMPORARY stub until the Python-compatible formatter lands.
pub(crate) fn write_json<W: std::io::Write, T: serde::Serialize + ?Sized>(w: &mut W, value: &T) -> Result<(), serde_json::Error> {
    serde_json::to_writer(w, value)
}
pub(crate) fn write_text<W: std::io::Write, T: serde::Serialize + ?Sized>(w: &mut W, value: &T) -> Result<(), serde_json::Error> {
    serde_json::to_writer(w, value)
}
