//! JSON-record input (`JsonLine<T>` in `src/api/input.rs`, with `Pairs`
//! and `TextLine` on the same lines): the input is cut into lines by the
//! framework's `LineReader`, and each line is parsed the way a first step's
//! mapper input is, into a Yelp-business-like struct, into
//! `serde_json::Value`-like types and into a nested struct. Never a panic;
//! and when a line parses:
//!
//! - a `Value` prints as JSON that parses back to the same `Value` (the
//!   crate enables `float_roundtrip`, so floats are exact);
//! - a `Business` prints and parses back to itself, and when the line is a
//!   JSON object it agrees field by field with the `Value` parse;
//! - `TextLine` gives the line itself when it is UTF-8, else its Latin-1
//!   reading, one char per byte.

use std::collections::BTreeMap;

use mapreduce::io::lines::LineReader;
use mapreduce::prelude::{InputFormat, JsonLine, Pairs, TextLine};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The fields of a Yelp business record that the jobs read (as in
/// `jobs/src/yelp.rs`), all optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Business {
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub stars: Option<f64>,
    #[serde(default)]
    pub review_count: Option<u64>,
    #[serde(default)]
    pub is_open: Option<u8>,
    #[serde(default)]
    pub categories: Option<String>,
}

/// Nested and required fields, maps, an externally tagged enum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detailed {
    pub business_id: String,
    #[serde(default)]
    pub hours: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
    #[serde(default)]
    pub checkins: Vec<(String, u32)>,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub location: Option<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Status {
    Open,
    Closed { since: i64 },
    Moved(String),
}

pub fn check(data: &[u8]) {
    let mut lines = LineReader::new(data, "fuzz");
    while let Some(line) = lines.next_line().expect("reading a byte slice cannot fail") {
        check_line(line.bytes, line.offset);
    }
}

fn check_line(line: &[u8], offset: u64) {
    let mut scratch = String::new();
    let value = <JsonLine<Value> as InputFormat>::from_line(line, offset, &mut scratch).ok();
    if let Some(v) = &value {
        let printed = serde_json::to_string(v).expect("a Value prints");
        let back = <JsonLine<Value> as InputFormat>::from_line(printed.as_bytes(), 0, &mut scratch)
            .unwrap_or_else(|e| panic!("{printed} does not parse back: {e}"));
        assert_eq!(&back, v, "a Value changed through {printed}");
    }
    if let Ok(b) = <JsonLine<Business> as InputFormat>::from_line(line, offset, &mut scratch) {
        let printed = serde_json::to_string(&b).expect("a Business prints");
        let back = <JsonLine<Business> as InputFormat>::from_line(printed.as_bytes(), 0, &mut scratch)
            .unwrap_or_else(|e| panic!("{printed} does not parse back: {e}"));
        assert_eq!(back, b, "a Business changed through {printed}");
        if let Some(Value::Object(fields)) = &value {
            assert_eq!(
                business_of(fields),
                b,
                "Business vs Value of {:?}",
                String::from_utf8_lossy(line)
            );
        }
    }
    let _ = <JsonLine<BTreeMap<String, Value>> as InputFormat>::from_line(line, offset, &mut scratch);
    let _ = <JsonLine<Vec<Option<f64>>> as InputFormat>::from_line(line, offset, &mut scratch);
    if let Ok(d) = <JsonLine<Detailed> as InputFormat>::from_line(line, offset, &mut scratch) {
        let printed = serde_json::to_string(&d).expect("a Detailed prints");
        let back = <JsonLine<Detailed> as InputFormat>::from_line(printed.as_bytes(), 0, &mut scratch)
            .unwrap_or_else(|e| panic!("{printed} does not parse back: {e}"));
        assert_eq!(back, d, "a Detailed changed through {printed}");
    }
    let _ = <Pairs<String, Value> as InputFormat>::from_line(line, offset, &mut scratch);
    let _ = <Pairs<(String, i64), Vec<Business>> as InputFormat>::from_line(line, offset, &mut scratch);

    let text = <TextLine as InputFormat>::from_line(line, offset, &mut scratch).expect("text never fails");
    assert_eq!(text.offset, offset);
    match std::str::from_utf8(line) {
        Ok(s) => assert_eq!(text.text, s),
        Err(_) => assert!(
            text.text.chars().map(u32::from).eq(line.iter().map(|&b| u32::from(b))),
            "not the Latin-1 reading of {line:?}"
        ),
    }
}

/// What a `Business` parse of an object must give, read off its `Value`
/// parse: a missing or null field is `None`. (`Business` rejects duplicate
/// fields and wrong types, so when both parse they agree.)
fn business_of(fields: &serde_json::Map<String, Value>) -> Business {
    let get = |name: &str| fields.get(name).filter(|v| !v.is_null());
    Business {
        city: get("city").map(|v| v.as_str().expect("city is a string").to_owned()),
        state: get("state").map(|v| v.as_str().expect("state is a string").to_owned()),
        stars: get("stars").map(|v| v.as_f64().expect("stars is a number")),
        review_count: get("review_count").map(|v| v.as_u64().expect("review_count is a u64")),
        is_open: get("is_open").map(|v| {
            let n = v.as_u64().expect("is_open is a u8");
            u8::try_from(n).expect("is_open is a u8")
        }),
        categories: get("categories").map(|v| v.as_str().expect("categories is a string").to_owned()),
    }
}

/// Yelp-like business lines (one per seed, and all of them in one), and
/// lines for the other types.
pub fn seeds() -> Vec<Vec<u8>> {
    let lines: [&str; 8] = [
        r#"{"business_id":"Pns2l4eNsfO8kk83dixA6A","name":"Abby Rappoport, LAC, CMQ","address":"1616 Chapala St, Ste 2","city":"Santa Barbara","state":"CA","postal_code":"93101","latitude":34.4266787,"longitude":-119.7111968,"stars":5.0,"review_count":7,"is_open":0,"attributes":{"ByAppointmentOnly":"True"},"categories":"Doctors, Traditional Chinese Medicine, Naturopathic/Holistic, Acupuncture, Health & Medical, Nutritionists","hours":null}"#,
        r#"{"business_id":"mpf3x-BjTdTEA3yCZrAYPw","city":"Affton","state":"MO","stars":3,"review_count":15,"is_open":1,"categories":null,"hours":{"Monday":"0:0-0:0","Friday":"8:0-18:30"}}"#,
        r#"{"city":"Montr\u00e9al","state":"QC","stars":4.5,"review_count":1e2}"#,
        r#"{"business_id":"x","attributes":{"WiFi":"u'free'","Ambience":{"romantic":false}},"checkins":[["2020-01-01",3]],"status":{"Closed":{"since":-1}},"location":[1.5,-2.25]}"#,
        "[\"Tampa\",\"FL\",4.0,12,1,\"Food\"]",
        "\"key\"\t{\"n\":[1,2.5,null,true]}",
        "[\"k\",3]\t[{\"city\":\"Reno\"}]\t",
        "not json \u{e9} \r",
    ];
    let mut out: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
    out.push(lines.join("\r\n").into_bytes());
    out.push(b"{\"city\":\"\xe9\"}\n{\"stars\":1e400}\n".to_vec());
    out
}
