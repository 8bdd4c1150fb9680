//! Yelp-like `business.json`: one compact JSON object per line, with the
//! field order, value shapes and quirks of the real
//! `yelp_academic_dataset_business.json` (which may not be redistributed),
//! but with invented records.
//!
//! Quirks reproduced, per line (rates are targets; the tests count them):
//! * `"attributes":null` ~10%, `"hours":null` ~15%, `"categories":null` ~1%;
//! * attribute values are strings, some holding Python reprs (`"u'casual'"`,
//!   `"{'garage': False, ...}"`, `"None"`);
//! * `categories` is one comma-separated string, and a few category names
//!   contain a comma or a `/` themselves;
//! * `/` written as `\/` on ~30% of lines (~8% of lines have a `/`, so ~2.5%
//!   show `\/`), non-ASCII written as `\uXXXX` on ~40% of lines and as raw
//!   UTF-8 on the rest (~10% of lines have non-ASCII: accented and CJK names,
//!   `Montréal`, `Québec`, `Zürich`, `São Paulo`, `多伦多`, French and German
//!   street names);
//! * `city` empty ~0.5%, missing ~0.3%, null ~0.2%, and ~2% written in
//!   another case (`las vegas`, `LAS VEGAS`, `Las vegas`), which are
//!   different keys; two names (`Concord`, `Aurora`) each used in two
//!   states;
//! * an old-dump `neighborhood` field on ~20% of lines;
//! * a Zipf-like city popularity over ~300 cities, each with its own state,
//!   coordinates and postal code format.

use super::{Rand, Weighted, mix64, push_u64};

/// How strings are escaped on a line. The real file mixes dumps written by
/// different JSON encoders, so both choices vary per line.
#[derive(Clone, Copy)]
struct Escapes {
    /// Non-ASCII as `\uXXXX` (lowercase hex, surrogate pairs), as Python's
    /// `json.dumps` writes it.
    ascii: bool,
    /// `/` as `\/`.
    slash: bool,
}

/// Appends `s` as a JSON string literal.
fn put_str(buf: &mut Vec<u8>, s: &str, esc: Escapes) {
    buf.push(b'"');
    put_str_body(buf, s, esc);
    buf.push(b'"');
}

/// Appends `s` escaped for the inside of a JSON string literal.
fn put_str_body(buf: &mut Vec<u8>, s: &str, esc: Escapes) {
    for c in s.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            '/' if esc.slash => buf.extend_from_slice(b"\\/"),
            c if (c as u32) < 0x20 => put_u_escape(buf, c as u16),
            c if c.is_ascii() => buf.push(c as u8),
            c if esc.ascii => {
                let mut units = [0u16; 2];
                for &unit in c.encode_utf16(&mut units).iter() {
                    put_u_escape(buf, unit);
                }
            }
            c => {
                let mut bytes = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut bytes).as_bytes());
            }
        }
    }
}

fn put_u_escape(buf: &mut Vec<u8>, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        buf.push(HEX[usize::from((unit >> shift) & 0xf)]);
    }
}

/// Appends a coordinate given in units of 1e-7 degrees the way Python's
/// `repr(float)` would print it: trailing zeros dropped, at least one
/// decimal.
fn put_coord(buf: &mut Vec<u8>, e7: i64) {
    if e7 < 0 {
        buf.push(b'-');
    }
    let abs = e7.unsigned_abs();
    push_u64(buf, abs / 10_000_000);
    buf.push(b'.');
    let mut frac = [0u8; 7];
    let mut rest = abs % 10_000_000;
    for d in frac.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let len = frac.iter().rposition(|&d| d != b'0').map_or(1, |p| p + 1);
    buf.extend_from_slice(&frac[..len]);
}

#[derive(Clone, Copy)]
enum Post {
    /// US ZIP code: a 3-digit prefix plus 2 random digits.
    Us(&'static str),
    /// Canadian `A1B 2C3`, with the province's first letter.
    Ca(u8),
    /// UK `EH1 2AB`.
    Uk,
    /// German 5-digit code with a 2-digit prefix.
    De(&'static str),
    /// Swiss 4-digit code with a 2-digit prefix.
    Ch(&'static str),
    /// Brazilian `01310-100`.
    Br,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    Gb,
    Fr,
    De,
    Pt,
}

/// A metro area: what the cities in it share.
struct Metro {
    state: &'static str,
    /// Centre, in 1e-4 degrees.
    lat: i32,
    lon: i32,
    post: Post,
    lang: Lang,
    /// Extra chance of a CJK business name, per 10,000.
    cjk: u32,
}

const fn metro(state: &'static str, lat: i32, lon: i32, post: Post, lang: Lang, cjk: u32) -> Metro {
    Metro {
        state,
        lat,
        lon,
        post,
        lang,
        cjk,
    }
}

const LV: usize = 0;
const PHX: usize = 1;
const TOR: usize = 2;
const GTA: usize = 3;
const CLT: usize = 4;
const SC: usize = 5;
const CAL: usize = 6;
const PIT: usize = 7;
const MTL: usize = 8;
const CLE: usize = 9;
const MAD: usize = 10;
const CHA: usize = 11;
const PHL: usize = 12;
const TUS: usize = 13;
const TPA: usize = 14;
const IND: usize = 15;
const BNA: usize = 16;
const MSY: usize = 17;
const EDM: usize = 18;
const RNO: usize = 19;
const STL: usize = 20;
const SBA: usize = 21;
const BOI: usize = 22;
const QUE: usize = 23;
const VAN: usize = 24;
const EDI: usize = 25;
const STU: usize = 26;
const ZRH: usize = 27;
const SAO: usize = 28;
const NJ: usize = 29;
const STI: usize = 30;

const METROS: &[Metro] = &[
    metro("NV", 361_699, -1_151_398, Post::Us("891"), Lang::En, 30),
    metro("AZ", 334_484, -1_120_740, Post::Us("850"), Lang::En, 20),
    metro("ON", 436_532, -793_832, Post::Ca(b'M'), Lang::En, 500),
    metro("ON", 437_315, -796_562, Post::Ca(b'L'), Lang::En, 400),
    metro("NC", 352_271, -808_431, Post::Us("282"), Lang::En, 10),
    metro("SC", 349_249, -810_251, Post::Us("297"), Lang::En, 10),
    metro("AB", 510_447, -1_140_719, Post::Ca(b'T'), Lang::En, 80),
    metro("PA", 404_406, -799_959, Post::Us("152"), Lang::En, 10),
    metro("QC", 455_017, -735_673, Post::Ca(b'H'), Lang::Fr, 40),
    metro("OH", 414_993, -816_944, Post::Us("441"), Lang::En, 10),
    metro("WI", 430_731, -894_012, Post::Us("537"), Lang::En, 10),
    metro("IL", 401_164, -882_434, Post::Us("618"), Lang::En, 30),
    metro("PA", 399_526, -751_652, Post::Us("191"), Lang::En, 30),
    metro("AZ", 322_226, -1_109_747, Post::Us("857"), Lang::En, 10),
    metro("FL", 279_506, -824_572, Post::Us("336"), Lang::En, 10),
    metro("IN", 397_684, -861_581, Post::Us("462"), Lang::En, 10),
    metro("TN", 361_627, -867_816, Post::Us("372"), Lang::En, 10),
    metro("LA", 299_511, -900_715, Post::Us("701"), Lang::En, 10),
    metro("AB", 535_461, -1_134_938, Post::Ca(b'T'), Lang::En, 60),
    metro("NV", 395_296, -1_198_138, Post::Us("895"), Lang::En, 10),
    metro("MO", 386_270, -901_994, Post::Us("631"), Lang::En, 10),
    metro("CA", 344_208, -1_196_982, Post::Us("931"), Lang::En, 10),
    metro("ID", 436_150, -1_162_023, Post::Us("837"), Lang::En, 10),
    metro("QC", 468_139, -712_080, Post::Ca(b'G'), Lang::Fr, 10),
    metro("BC", 492_827, -1_231_207, Post::Ca(b'V'), Lang::En, 1500),
    metro("EDH", 559_533, -31_883, Post::Uk, Lang::Gb, 20),
    metro("BW", 487_758, 91_829, Post::De("70"), Lang::De, 20),
    metro("ZH", 473_769, 85_417, Post::Ch("80"), Lang::De, 20),
    metro("SP", -235_505, -466_333, Post::Br, Lang::Pt, 60),
    metro("NJ", 399_259, -750_196, Post::Us("080"), Lang::En, 10),
    metro("IL", 385_201, -899_840, Post::Us("622"), Lang::En, 10),
];

/// Cities in popularity order (the Zipf rank), each in a metro. `Concord`
/// and `Aurora` appear twice, in different states, as in the real data.
const CITIES: &[(&str, usize)] = &[
    ("Las Vegas", LV),
    ("Phoenix", PHX),
    ("Toronto", TOR),
    ("Charlotte", CLT),
    ("Scottsdale", PHX),
    ("Calgary", CAL),
    ("Pittsburgh", PIT),
    ("Montréal", MTL),
    ("Mesa", PHX),
    ("Henderson", LV),
    ("Tempe", PHX),
    ("Philadelphia", PHL),
    ("Chandler", PHX),
    ("Cleveland", CLE),
    ("Tucson", TUS),
    ("Madison", MAD),
    ("Glendale", PHX),
    ("Tampa", TPA),
    ("Mississauga", GTA),
    ("Indianapolis", IND),
    ("Nashville", BNA),
    ("Gilbert", PHX),
    ("New Orleans", MSY),
    ("Markham", GTA),
    ("Edmonton", EDM),
    ("Peoria", PHX),
    ("Reno", RNO),
    ("North Las Vegas", LV),
    ("Saint Louis", STL),
    ("Santa Barbara", SBA),
    ("Champaign", CHA),
    ("Boise", BOI),
    ("Surprise", PHX),
    ("Stuttgart", STU),
    ("Edinburgh", EDI),
    ("Montreal", MTL),
    ("North York", TOR),
    ("Scarborough", TOR),
    ("Richmond Hill", GTA),
    ("Concord", CLT),
    ("Vaughan", GTA),
    ("Etobicoke", TOR),
    ("Laval", MTL),
    ("Akron", CLE),
    ("Brampton", GTA),
    ("Goodyear", PHX),
    ("Avondale", PHX),
    ("Lakewood", CLE),
    ("Oakville", GTA),
    ("Cave Creek", PHX),
    ("Matthews", CLT),
    ("Huntersville", CLT),
    ("Urbana", CHA),
    ("Karlsruhe", STU),
    ("Zürich", ZRH),
    ("Fort Mill", SC),
    ("Rock Hill", SC),
    ("Strongsville", CLE),
    ("Westlake", CLE),
    ("Parma", CLE),
    ("Mentor", CLE),
    ("Cornelius", CLT),
    ("Middleton", MAD),
    ("Fitchburg", MAD),
    ("Sun Prairie", MAD),
    ("Queen Creek", PHX),
    ("Fountain Hills", PHX),
    ("Paradise Valley", PHX),
    ("Boulder City", LV),
    ("Thornhill", GTA),
    ("Woodbridge", GTA),
    ("Pickering", GTA),
    ("Ajax", GTA),
    ("Whitby", GTA),
    ("Oshawa", GTA),
    ("Newmarket", GTA),
    ("Burlington", GTA),
    ("Milton", GTA),
    ("Bethel Park", PIT),
    ("Monroeville", PIT),
    ("Canonsburg", PIT),
    ("Cranberry Township", PIT),
    ("Wexford", PIT),
    ("Coraopolis", PIT),
    ("Mooresville", CLT),
    ("Gastonia", CLT),
    ("Pineville", CLT),
    ("Mint Hill", CLT),
    ("Indian Trail", CLT),
    ("Longueuil", MTL),
    ("Westmount", MTL),
    ("Verdun", MTL),
    ("Saint-Laurent", MTL),
    ("Brossard", MTL),
    ("Québec", QUE),
    ("Lévis", QUE),
    ("Airdrie", CAL),
    ("Cochrane", CAL),
    ("Okotoks", CAL),
    ("Chestermere", CAL),
    ("Vancouver", VAN),
    ("Burnaby", VAN),
    ("Richmond", VAN),
    ("São Paulo", SAO),
    ("Medina", CLE),
    ("Solon", CLE),
    ("Cuyahoga Falls", CLE),
    ("Euclid", CLE),
    ("North Olmsted", CLE),
    ("Brunswick", CLE),
    ("Independence", CLE),
    ("Mayfield Heights", CLE),
    ("Beachwood", CLE),
    ("Willoughby", CLE),
    ("Avon", CLE),
    ("Avon Lake", CLE),
    ("Elyria", CLE),
    ("Berea", CLE),
    ("Stow", CLE),
    ("Hudson", CLE),
    ("Twinsburg", CLE),
    ("Shaker Heights", CLE),
    ("Cleveland Heights", CLE),
    ("Broadview Heights", CLE),
    ("Brecksville", CLE),
    ("Middleburg Heights", CLE),
    ("North Royalton", CLE),
    ("Rocky River", CLE),
    ("Bay Village", CLE),
    ("Fairlawn", CLE),
    ("Wadsworth", CLE),
    ("Kent", CLE),
    ("Macedonia", CLE),
    ("Aurora", CLE),
    ("Chagrin Falls", CLE),
    ("Painesville", CLE),
    ("Garfield Heights", CLE),
    ("Sewickley", PIT),
    ("Carnegie", PIT),
    ("Bridgeville", PIT),
    ("McMurray", PIT),
    ("Gibsonia", PIT),
    ("Homestead", PIT),
    ("West Mifflin", PIT),
    ("Mount Lebanon", PIT),
    ("Moon Township", PIT),
    ("Oakmont", PIT),
    ("Allison Park", PIT),
    ("Irwin", PIT),
    ("McKees Rocks", PIT),
    ("Verona", MAD),
    ("Monona", MAD),
    ("Waunakee", MAD),
    ("Stoughton", MAD),
    ("McFarland", MAD),
    ("DeForest", MAD),
    ("Cottage Grove", MAD),
    ("Savoy", CHA),
    ("Mahomet", CHA),
    ("Rantoul", CHA),
    ("Paradise", LV),
    ("Spring Valley", LV),
    ("Summerlin", LV),
    ("Enterprise", LV),
    ("Sunrise Manor", LV),
    ("Whitney", LV),
    ("Winchester", LV),
    ("Nellis AFB", LV),
    ("Blue Diamond", LV),
    ("Mesquite", LV),
    ("Sun City", PHX),
    ("Buckeye", PHX),
    ("Litchfield Park", PHX),
    ("Tolleson", PHX),
    ("Laveen", PHX),
    ("Anthem", PHX),
    ("Apache Junction", PHX),
    ("San Tan Valley", PHX),
    ("El Mirage", PHX),
    ("Casa Grande", PHX),
    ("Maricopa", PHX),
    ("Carefree", PHX),
    ("Gold Canyon", PHX),
    ("Sun City West", PHX),
    ("Wickenburg", PHX),
    ("Youngtown", PHX),
    ("Davidson", CLT),
    ("Harrisburg", CLT),
    ("Belmont", CLT),
    ("Monroe", CLT),
    ("Kannapolis", CLT),
    ("Waxhaw", CLT),
    ("Stallings", CLT),
    ("Tega Cay", SC),
    ("Lake Wylie", SC),
    ("Indian Land", SC),
    ("East York", TOR),
    ("York", TOR),
    ("Maple", GTA),
    ("Stouffville", GTA),
    ("Unionville", GTA),
    ("King City", GTA),
    ("Bolton", GTA),
    ("Caledon", GTA),
    ("Georgetown", GTA),
    ("Aurora", GTA),
    ("Concord", GTA),
    ("多伦多", TOR),
    ("Outremont", MTL),
    ("Lachine", MTL),
    ("LaSalle", MTL),
    ("Saint-Léonard", MTL),
    ("Anjou", MTL),
    ("Mont-Royal", MTL),
    ("Boucherville", MTL),
    ("Terrebonne", MTL),
    ("Repentigny", MTL),
    ("Côte-Saint-Luc", MTL),
    ("Montréal-Nord", MTL),
    ("Saint-Lambert", MTL),
    ("Kirkland", MTL),
    ("Dollard-des-Ormeaux", MTL),
    ("Pointe-Claire", MTL),
    ("Dorval", MTL),
    ("Beaconsfield", MTL),
    ("Sainte-Anne-de-Bellevue", MTL),
    ("Blainville", MTL),
    ("Boisbriand", MTL),
    ("Mirabel", MTL),
    ("Châteauguay", MTL),
    ("Sainte-Foy", QUE),
    ("Beauport", QUE),
    ("Charlesbourg", QUE),
    ("Canmore", CAL),
    ("Strathmore", CAL),
    ("St. Albert", EDM),
    ("Sherwood Park", EDM),
    ("Spruce Grove", EDM),
    ("Leduc", EDM),
    ("Surrey", VAN),
    ("North Vancouver", VAN),
    ("Coquitlam", VAN),
    ("Leith", EDI),
    ("Musselburgh", EDI),
    ("Dalkeith", EDI),
    ("Esslingen am Neckar", STU),
    ("Ludwigsburg", STU),
    ("Böblingen", STU),
    ("Sindelfingen", STU),
    ("Leonberg", STU),
    ("Fellbach", STU),
    ("Waiblingen", STU),
    ("Ostfildern", STU),
    ("Filderstadt", STU),
    ("Leinfelden-Echterdingen", STU),
    ("Kornwestheim", STU),
    ("Gerlingen", STU),
    ("Ditzingen", STU),
    ("Winterthur", ZRH),
    ("Uster", ZRH),
    ("Dübendorf", ZRH),
    ("Kloten", ZRH),
    ("Guarulhos", SAO),
    ("Santo André", SAO),
    ("São Bernardo do Campo", SAO),
    ("Osasco", SAO),
    ("Cherry Hill", NJ),
    ("Camden", NJ),
    ("Haddonfield", NJ),
    ("Norristown", PHL),
    ("King of Prussia", PHL),
    ("Media", PHL),
    ("Conshohocken", PHL),
    ("Marana", TUS),
    ("Oro Valley", TUS),
    ("Sahuarita", TUS),
    ("Clearwater", TPA),
    ("St. Petersburg", TPA),
    ("Brandon", TPA),
    ("Largo", TPA),
    ("Carmel", IND),
    ("Fishers", IND),
    ("Greenwood", IND),
    ("Noblesville", IND),
    ("Franklin", BNA),
    ("Brentwood", BNA),
    ("Murfreesboro", BNA),
    ("Hendersonville", BNA),
    ("Metairie", MSY),
    ("Kenner", MSY),
    ("Gretna", MSY),
    ("Sparks", RNO),
    ("Carson City", RNO),
    ("Kirkwood", STL),
    ("Chesterfield", STL),
    ("Florissant", STL),
    ("Belleville", STI),
    ("Edwardsville", STI),
    ("Goleta", SBA),
    ("Carpinteria", SBA),
    ("Meridian", BOI),
    ("Nampa", BOI),
    ("Eagle", BOI),
];

/// Categories in popularity order, with whether they make a business a food
/// place (which drives its name and attributes). Names are real Yelp
/// category names, including the ones with a `,` or `/` inside.
const CATEGORIES: &[(&str, bool)] = &[
    ("Restaurants", true),
    ("Food", true),
    ("Shopping", false),
    ("Home Services", false),
    ("Beauty & Spas", false),
    ("Health & Medical", false),
    ("Local Services", false),
    ("Nightlife", true),
    ("Bars", true),
    ("Automotive", false),
    ("Event Planning & Services", false),
    ("Active Life", false),
    ("Coffee & Tea", true),
    ("Sandwiches", true),
    ("Fast Food", true),
    ("American (Traditional)", true),
    ("Pizza", true),
    ("Hair Salons", false),
    ("Burgers", true),
    ("Breakfast & Brunch", true),
    ("Mexican", true),
    ("Italian", true),
    ("Specialty Food", true),
    ("Doctors", false),
    ("Pets", false),
    ("Real Estate", false),
    ("Chinese", true),
    ("Fashion", false),
    ("Home & Garden", false),
    ("Arts & Entertainment", false),
    ("Hotels & Travel", false),
    ("Nail Salons", false),
    ("Auto Repair", false),
    ("American (New)", true),
    ("Fitness & Instruction", false),
    ("Professional Services", false),
    ("Bakeries", true),
    ("Desserts", true),
    ("Cafes", true),
    ("Grocery", true),
    ("Japanese", true),
    ("Chicken Wings", true),
    ("Seafood", true),
    ("Salad", true),
    ("Dentists", false),
    ("Sushi Bars", true),
    ("Delis", true),
    ("Ice Cream & Frozen Yogurt", true),
    ("Skin Care", false),
    ("Contractors", false),
    ("Sports Bars", true),
    ("Hair Removal", false),
    ("Barbeque", true),
    ("Asian Fusion", true),
    ("Mediterranean", true),
    ("Steakhouses", true),
    ("Day Spas", false),
    ("Pubs", true),
    ("Massage", false),
    ("Thai", true),
    ("Juice Bars & Smoothies", true),
    ("Vietnamese", true),
    ("Indian", true),
    ("Beer, Wine & Spirits", true),
    ("Gyms", false),
    ("General Dentistry", false),
    ("Women's Clothing", false),
    ("Pet Services", false),
    ("Apartments", false),
    ("Cosmetic Dentists", false),
    ("Heating & Air Conditioning/HVAC", false),
    ("Plumbing", false),
    ("Wine Bars", true),
    ("Venues & Event Spaces", false),
    ("Caterers", true),
    ("Lounges", true),
    ("Cocktail Bars", true),
    ("Tex-Mex", true),
    ("Food Trucks", true),
    ("Greek", true),
    ("Middle Eastern", true),
    ("Korean", true),
    ("Vegetarian", true),
    ("Vegan", true),
    ("Gluten-Free", true),
    ("Diners", true),
    ("Hot Dogs", true),
    ("Donuts", true),
    ("Tacos", true),
    ("Ramen", true),
    ("Noodles", true),
    ("Dim Sum", true),
    ("Latin American", true),
    ("Caribbean", true),
    ("French", true),
    ("Cajun/Creole", true),
    ("Canadian (New)", true),
    ("Food Delivery Services", true),
    ("Chiropractors", false),
    ("Eyewear & Opticians", false),
    ("Naturopathic/Holistic", false),
    ("Auto Parts & Supplies", false),
    ("Car Dealers", false),
    ("Convenience Stores", false),
    ("Drugstores", false),
    ("Men's Clothing", false),
    ("Shoe Stores", false),
    ("Jewelry", false),
    ("Furniture Stores", false),
    ("Flowers & Gifts", false),
    ("Florists", false),
    ("Books, Mags, Music & Video", false),
    ("Bookstores", false),
    ("Used, Vintage & Consignment", false),
    ("Yoga", false),
    ("Lawyers", false),
    ("Banks & Credit Unions", false),
    ("Barbers", false),
    ("Tattoo", false),
    ("Dry Cleaning & Laundry", false),
];

/// How an attribute's value is made.
enum AttrValue {
    /// One of these strings, verbatim (repeats weight the choice).
    OneOf(&'static [&'static str]),
    /// A Python dict repr over these keys, each `True`/`False`/`None`.
    Dict(&'static [&'static str]),
}

/// An attribute, with its chance (per 1,000) on food and on other places.
struct Attr {
    key: &'static str,
    food: u32,
    other: u32,
    value: AttrValue,
}

const fn attr(key: &'static str, food: u32, other: u32, value: AttrValue) -> Attr {
    Attr {
        key,
        food,
        other,
        value,
    }
}

const BOOLS: AttrValue = AttrValue::OneOf(&["True", "True", "True", "False", "False", "None"]);

const ATTRS: &[Attr] = &[
    attr("RestaurantsTakeOut", 700, 0, BOOLS),
    attr(
        "BusinessAcceptsCreditCards",
        750,
        750,
        AttrValue::OneOf(&["True", "True", "True", "True", "False", "None"]),
    ),
    attr(
        "RestaurantsPriceRange2",
        700,
        300,
        AttrValue::OneOf(&["1", "2", "2", "2", "3", "4", "None"]),
    ),
    attr(
        "BusinessParking",
        650,
        400,
        AttrValue::Dict(&["garage", "street", "validated", "lot", "valet"]),
    ),
    attr("BikeParking", 500, 300, BOOLS),
    attr(
        "WiFi",
        550,
        150,
        AttrValue::OneOf(&["u'free'", "u'no'", "'free'", "'no'", "u'paid'", "None"]),
    ),
    attr("GoodForKids", 600, 150, BOOLS),
    attr(
        "RestaurantsAttire",
        500,
        0,
        AttrValue::OneOf(&[
            "u'casual'",
            "'casual'",
            "u'casual'",
            "u'dressy'",
            "'dressy'",
            "u'formal'",
        ]),
    ),
    attr(
        "Alcohol",
        500,
        0,
        AttrValue::OneOf(&[
            "u'none'",
            "'none'",
            "u'full_bar'",
            "'full_bar'",
            "u'beer_and_wine'",
            "'beer_and_wine'",
            "None",
        ]),
    ),
    attr(
        "NoiseLevel",
        450,
        0,
        AttrValue::OneOf(&[
            "u'average'",
            "'average'",
            "u'quiet'",
            "'quiet'",
            "u'loud'",
            "u'very_loud'",
            "None",
        ]),
    ),
    attr(
        "Ambience",
        500,
        0,
        AttrValue::Dict(&[
            "romantic", "intimate", "classy", "hipster", "divey", "touristy", "trendy", "upscale", "casual",
        ]),
    ),
    attr(
        "GoodForMeal",
        400,
        0,
        AttrValue::Dict(&["dessert", "latenight", "lunch", "dinner", "brunch", "breakfast"]),
    ),
    attr("RestaurantsGoodForGroups", 550, 0, BOOLS),
    attr("RestaurantsReservations", 550, 0, BOOLS),
    attr("HasTV", 500, 50, BOOLS),
    attr("OutdoorSeating", 550, 0, BOOLS),
    attr("RestaurantsDelivery", 500, 0, BOOLS),
    attr("Caters", 400, 0, BOOLS),
    attr("WheelchairAccessible", 200, 150, BOOLS),
    attr("DogsAllowed", 100, 80, BOOLS),
    attr(
        "ByAppointmentOnly",
        20,
        350,
        AttrValue::OneOf(&["True", "True", "False", "None"]),
    ),
    attr("RestaurantsTableService", 300, 0, BOOLS),
    attr("HappyHour", 150, 0, BOOLS),
    attr(
        "Music",
        80,
        0,
        AttrValue::Dict(&[
            "dj",
            "background_music",
            "no_music",
            "jukebox",
            "live",
            "video",
            "karaoke",
        ]),
    ),
    attr(
        "BestNights",
        80,
        0,
        AttrValue::Dict(&[
            "monday",
            "tuesday",
            "friday",
            "wednesday",
            "thursday",
            "sunday",
            "saturday",
        ]),
    ),
    attr(
        "Smoking",
        40,
        0,
        AttrValue::OneOf(&["u'no'", "u'outdoor'", "'no'", "u'yes'"]),
    ),
    attr(
        "AgesAllowed",
        10,
        10,
        AttrValue::OneOf(&["u'21plus'", "u'allages'", "u'18plus'"]),
    ),
    attr("CoatCheck", 50, 0, BOOLS),
    attr("BYOB", 30, 0, BOOLS),
    attr(
        "BYOBCorkage",
        30,
        0,
        AttrValue::OneOf(&["'no'", "'yes_free'", "u'yes_corkage'", "u'no'"]),
    ),
    attr("Corkage", 30, 0, BOOLS),
    attr("DriveThru", 100, 0, BOOLS),
    attr("GoodForDancing", 50, 0, BOOLS),
    attr(
        "DietaryRestrictions",
        20,
        0,
        AttrValue::Dict(&[
            "dairy-free",
            "gluten-free",
            "vegan",
            "kosher",
            "halal",
            "soy-free",
            "vegetarian",
        ]),
    ),
    attr("AcceptsInsurance", 0, 100, BOOLS),
    attr(
        "HairSpecializesIn",
        0,
        30,
        AttrValue::Dict(&[
            "straightperms",
            "coloring",
            "extensions",
            "africanamerican",
            "curly",
            "kids",
            "perms",
            "asian",
        ]),
    ),
    attr("RestaurantsCounterService", 10, 0, BOOLS),
    attr("Open24Hours", 10, 10, BOOLS),
];

const DAYS: &[&str] = &[
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

const STARS: &[&str] = &["1.0", "1.5", "2.0", "2.5", "3.0", "3.5", "4.0", "4.5", "5.0"];
const STAR_WEIGHTS: &[u64] = &[2, 3, 6, 9, 12, 17, 20, 17, 14];
/// Categories per business, 1 to 6.
const CATEGORY_COUNT_WEIGHTS: &[u64] = &[12, 25, 28, 18, 10, 7];

const ID_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const SURNAMES: &[&str] = &[
    "Tony",
    "Mario",
    "Joe",
    "Sam",
    "Rosa",
    "Lee",
    "Kim",
    "Nguyen",
    "Garcia",
    "Smith",
    "Johnson",
    "Patel",
    "Chen",
    "Wong",
    "Rossi",
    "Miller",
    "Davis",
    "Lopez",
    "Martinez",
    "Brown",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Carter",
    "Mitchell",
    "Roberts",
    "Turner",
    "Phillips",
    "Campbell",
    "Parker",
    "Evans",
    "Edwards",
    "Collins",
    "Stewart",
    "Morris",
    "Murphy",
    "Cook",
    "Rogers",
    "Morgan",
    "Cooper",
    "Peterson",
    "Reed",
    "Bailey",
    "Bell",
    "Kelly",
    "Howard",
    "Ward",
    "Cox",
    "Diaz",
    "Richardson",
    "Wood",
    "Brooks",
    "Gray",
    "James",
    "Bennett",
    "Ruiz",
    "Hughes",
    "Price",
    "Sanders",
    "Myers",
    "Long",
    "Ross",
    "Foster",
];
const ADJECTIVES: &[&str] = &[
    "Golden", "Happy", "Lucky", "Little", "Big", "Blue", "Red", "Green", "Royal", "Old", "New", "Urban", "Rustic",
    "Sunny", "Silver", "Copper", "Iron", "Wild", "Desert", "Mountain", "Ocean", "Northern", "Southern", "Grand",
    "Modern", "Classic", "Fresh", "Sweet", "Spicy", "Crazy", "Hidden", "Secret", "Twisted", "Bright", "Famous",
    "Original", "Fancy", "Simple", "Noble", "Cozy", "Velvet", "Crystal", "Sage",
];
const NOUNS: &[&str] = &[
    "Dragon", "Garden", "Kitchen", "Table", "Spoon", "Fork", "Oven", "Grill", "Bistro", "Tavern", "Market", "House",
    "Corner", "Plate", "Bowl", "Leaf", "Bean", "Barrel", "Anchor", "Lantern", "Olive", "Lotus", "Bamboo", "Phoenix",
    "Tiger", "Fox", "Bear", "Owl", "Rooster", "Pig", "Crow", "Rose", "Lemon", "Pepper", "Salt", "Honey", "Maple",
    "Oak", "Pine", "Cactus", "River", "Canyon", "Harbor", "Bridge", "Mill", "Forge", "Studio", "Loft",
];
const FOOD_KINDS: &[&str] = &[
    "Pizza",
    "Grill",
    "Cafe",
    "Bakery",
    "Diner",
    "Sushi",
    "Tacos",
    "Bar",
    "Pub",
    "Bistro",
    "Kitchen",
    "Noodle House",
    "Burger Bar",
    "Steakhouse",
    "Deli",
    "Brewing Co.",
    "Coffee Co.",
    "Cantina",
    "Eatery",
    "BBQ",
    "Pho",
    "Thai Cuisine",
    "Ramen",
    "Wine Bar",
    "Taqueria",
];
const OTHER_KINDS: &[&str] = &[
    "Auto Repair",
    "Dental",
    "Hair Salon",
    "Nail Spa",
    "Law Office",
    "Insurance Agency",
    "Plumbing",
    "Fitness",
    "Yoga Studio",
    "Chiropractic",
    "Realty",
    "Cleaners",
    "Pet Grooming",
    "Florist",
    "Boutique",
    "Tire & Auto",
    "Family Dentistry",
    "Medical Center",
    "Eye Care",
    "Barbershop",
    "Tattoo",
    "Massage",
    "Jewelers",
    "Furniture",
    "Mattress",
    "Pharmacy",
    "Storage",
    "Moving Co.",
    "Electric",
    "Roofing",
    "Landscaping",
    "Photography",
    "Bookstore",
    "Smoke Shop",
];
const CHAINS: &[&str] = &[
    "Starbucks",
    "McDonald's",
    "Subway",
    "Taco Bell",
    "Pizza Hut",
    "Domino's Pizza",
    "Burger King",
    "Wendy's",
    "Chipotle Mexican Grill",
    "Panera Bread",
    "Dunkin'",
    "Tim Hortons",
    "Walgreens",
    "CVS Pharmacy",
    "Jack in the Box",
    "Panda Express",
    "Denny's",
    "IHOP",
    "Circle K",
    "7-Eleven",
    "Great Clips",
    "The UPS Store",
    "Jiffy Lube",
    "Discount Tire",
    "Safeway",
    "Target",
    "Chick-fil-A",
    "Sonic Drive-In",
    "Five Guys",
    "Papa John's",
    "Little Caesars",
    "Dairy Queen",
];
/// Name endings with a `/`, the usual source of `\/` in names.
const SLASHED: &[&str] = &[
    "Bar / Grill",
    "Kitchen / Bar",
    "Coffee / Wine",
    "Sushi / Ramen",
    "Pizza / Pasta",
    "Tacos / Tequila",
    "Cafe/Bakery",
    "Tattoo/Piercing",
];
const ACCENTED: &[&str] = &[
    "Café Rio",
    "Crème de la Crème",
    "Café Olé",
    "Señor Taco",
    "Poké Bar",
    "Jalapeño Grill",
    "Crêpe Café",
    "Naïve Bakery",
    "Über Sushi",
    "Café Zürich",
    "Piñata Party Rentals",
    "Déjà Vu Lounge",
];
const CJK: &[&str] = &[
    "金龍 Golden Dragon",
    "寿司 Sushi Bar",
    "麺屋 Noodle House",
    "福星 Seafood Restaurant",
    "小肥羊 Hot Pot",
    "北京 Kitchen",
    "大福 Bakery",
    "香港 Cafe",
    "龍門 Dim Sum",
    "味千拉麵",
    "韓國 BBQ",
    "茶 Tea House",
];
const FR_HEADS: &[&str] = &[
    "Café",
    "Crêperie",
    "Pâtisserie",
    "Boulangerie",
    "Brasserie",
    "Bistro",
    "Chez",
    "Le Petit",
    "La Belle",
    "Épicerie",
    "Fromagerie",
    "Dépanneur",
];
const FR_TAILS: &[&str] = &[
    "Olive", "Étoile", "Forêt", "Château", "Marché", "Soleil", "Maison", "Jardin", "Lune", "Fleur", "Gérard", "Hélène",
    "Ménard", "Côté",
];
const DE_HEADS: &[&str] = &[
    "Bäckerei",
    "Gasthaus",
    "Brauhaus",
    "Café",
    "Metzgerei",
    "Weinstube",
    "Konditorei",
    "Biergarten",
    "Schnitzelhaus",
    "Friseur",
];
const DE_TAILS: &[&str] = &[
    "Müller",
    "Schäfer",
    "Weiß",
    "Köhler",
    "zum Löwen",
    "am Markt",
    "Krone",
    "Rössle",
    "Hirsch",
    "Sonne",
];
const PT_HEADS: &[&str] = &[
    "Padaria",
    "Churrascaria",
    "Lanchonete",
    "Pastelaria",
    "Açougue",
    "Restaurante",
    "Boteco",
    "Cantina",
];
const PT_TAILS: &[&str] = &[
    "São Jorge",
    "Bom Gosto",
    "Estrela",
    "Paulista",
    "Sabor de Minas",
    "Coração",
    "Pão Quente",
    "Brasil",
];

const EN_STREETS: &[&str] = &[
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Sunset",
    "Broadway",
    "Market",
    "Church",
    "Spring",
    "Center",
    "Highland",
    "Camelback",
    "Flamingo",
    "Tropicana",
    "Sahara",
    "Charleston",
    "Rainbow",
    "Eastern",
    "Scottsdale",
    "Indian School",
    "Bell",
    "Baseline",
    "Queen",
    "King",
    "Yonge",
    "Bloor",
    "Dundas",
    "College",
    "Spadina",
    "Forbes",
    "Liberty",
    "Penn",
    "Euclid",
    "Lorain",
    "Detroit",
    "State",
    "University",
    "Mill",
    "River",
    "Lincoln",
    "Jefferson",
    "Madison",
    "Franklin",
    "Central",
    "Dixie",
    "Steeles",
    "Sheppard",
    "Finch",
    "Eglinton",
    "Dufferin",
    "Bathurst",
    "Kennedy",
];
const EN_SUFFIXES: &[&str] = &[
    "St", "Ave", "Blvd", "Rd", "Dr", "Ln", "Pkwy", "Way", "Pl", "Ct", "Hwy", "Street", "Avenue",
];
const EN_DIRECTIONS: &[&str] = &["N ", "S ", "E ", "W ", "", "", "", "", "", ""];
const UNITS: &[&str] = &[", Ste ", ", Suite ", ", Unit ", " #", ", Ste. "];
const FR_STREETS: &[&str] = &[
    "Rue Saint-Denis",
    "Rue Sainte-Catherine O",
    "Boulevard Saint-Laurent",
    "Avenue du Mont-Royal E",
    "Rue Saint-Paul O",
    "Boulevard René-Lévesque O",
    "Chemin de la Côte-des-Neiges",
    "Rue Notre-Dame O",
    "Avenue Laurier O",
    "Rue Wellington",
    "Rue de la Gauchetière O",
    "Boulevard de Maisonneuve O",
    "Rue Saint-Jean",
    "Grande Allée E",
    "Rue Ontario E",
    "Avenue du Parc",
    "Boulevard Décarie",
    "Rue Sherbrooke E",
];
const DE_STREETS: &[&str] = &[
    "Königstraße",
    "Marienplatz",
    "Bahnhofstrasse",
    "Calwer Straße",
    "Theodor-Heuss-Straße",
    "Hauptstraße",
    "Schulstraße",
    "Eberhardstraße",
    "Rotebühlplatz",
    "Langstrasse",
    "Niederdorfstrasse",
    "Löwenstrasse",
    "Tübinger Straße",
];
const PT_STREETS: &[&str] = &[
    "Rua Augusta",
    "Avenida Paulista",
    "Rua Oscar Freire",
    "Rua da Consolação",
    "Alameda Santos",
    "Rua Haddock Lobo",
    "Avenida Brigadeiro Faria Lima",
    "Rua Bela Cintra",
];
const GB_STREETS: &[&str] = &[
    "Princes Street",
    "Rose Street",
    "George Street",
    "Leith Walk",
    "Grassmarket",
    "Cockburn Street",
    "Broughton Street",
    "Lothian Road",
    "Morningside Road",
    "Dalry Road",
    "Easter Road",
    "Victoria Street",
];

const EN_NEIGHBORHOODS: &[&str] = &[
    "Downtown",
    "The Strip",
    "Westside",
    "Eastside",
    "Southwest",
    "Northwest",
    "Midtown",
    "Old Town",
    "Uptown",
    "Chinatown",
    "University",
    "Arts District",
    "Spring Valley",
    "South Side",
    "Lawrenceville",
    "The Annex",
    "Kensington Market",
];
const FR_NEIGHBORHOODS: &[&str] = &[
    "Ville-Marie",
    "Le Plateau-Mont-Royal",
    "Rosemont-La Petite-Patrie",
    "Côte-des-Neiges",
    "Vieux-Montréal",
    "Mile End",
    "Saint-Henri",
];
const DE_NEIGHBORHOODS: &[&str] = &["Mitte", "Bad Cannstatt", "West", "Vaihingen", "Altstadt"];
const PT_NEIGHBORHOODS: &[&str] = &["Jardins", "Pinheiros", "Vila Madalena", "Liberdade"];
const GB_NEIGHBORHOODS: &[&str] = &["New Town", "Old Town", "Leith", "Stockbridge", "Southside"];

/// Letters Canada Post uses in postal codes.
const CA_LETTERS: &[u8] = b"ABCEGHJKLMNPRSTVWXYZ";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The Yelp generator's state: its random stream, the samplers, and scratch
/// space reused across lines so that a line allocates nothing.
pub(crate) struct Yelp {
    rng: Rand,
    cities: Weighted,
    categories: Weighted,
    category_count: Weighted,
    stars: Weighted,
    scratch: String,
    picked: Vec<usize>,
}

impl Yelp {
    pub(crate) fn new(rng: Rand) -> Self {
        Yelp {
            rng,
            // q = 1: the top city gets ~9% of businesses, 1.5x the next.
            cities: Weighted::zipf(CITIES.len(), 1),
            categories: Weighted::zipf(CATEGORIES.len(), 2),
            category_count: Weighted::new(CATEGORY_COUNT_WEIGHTS),
            stars: Weighted::new(STAR_WEIGHTS),
            scratch: String::with_capacity(128),
            picked: Vec::with_capacity(8),
        }
    }

    /// Appends one business, `\n` included.
    pub(crate) fn line(&mut self, buf: &mut Vec<u8>) {
        let esc = Escapes {
            ascii: self.rng.chance(4000),
            slash: self.rng.chance(3000),
        };
        let city_index = self.cities.sample(&mut self.rng);
        let (city, metro_index) = CITIES[city_index];
        let metro = &METROS[metro_index];

        // Categories come first because the name and attributes depend on
        // them, though they are written near the end.
        self.picked.clear();
        let has_categories = !self.rng.chance(100);
        if has_categories {
            let n = self.category_count.sample(&mut self.rng) + 1;
            // Rejection keeps the picks distinct; the cap only matters if
            // the table were ever shrunk below `n` entries.
            for _ in 0..n * 8 {
                let c = self.categories.sample(&mut self.rng);
                if !self.picked.contains(&c) {
                    self.picked.push(c);
                    if self.picked.len() == n {
                        break;
                    }
                }
            }
        }
        let food = self.picked.iter().any(|&c| CATEGORIES[c].1);

        buf.extend_from_slice(b"{\"business_id\":\"");
        self.business_id(buf);
        buf.extend_from_slice(b"\",\"name\":");
        self.name(metro, food);
        put_str(buf, &self.scratch, esc);

        if self.rng.chance(2000) {
            buf.extend_from_slice(b",\"neighborhood\":");
            if self.rng.chance(6000) {
                buf.extend_from_slice(b"\"\"");
            } else {
                let list = match metro.lang {
                    Lang::En => EN_NEIGHBORHOODS,
                    Lang::Gb => GB_NEIGHBORHOODS,
                    Lang::Fr => FR_NEIGHBORHOODS,
                    Lang::De => DE_NEIGHBORHOODS,
                    Lang::Pt => PT_NEIGHBORHOODS,
                };
                put_str(buf, self.rng.pick(list), esc);
            }
        }

        buf.extend_from_slice(b",\"address\":");
        self.address(metro);
        put_str(buf, &self.scratch, esc);

        match self.rng.below(10_000) {
            0..=29 => {} // the key is missing altogether
            30..=49 => buf.extend_from_slice(b",\"city\":null"),
            50..=99 => buf.extend_from_slice(b",\"city\":\"\""),
            r => {
                buf.extend_from_slice(b",\"city\":");
                self.scratch.clear();
                match r {
                    100..=219 => self.scratch.extend(city.chars().flat_map(char::to_lowercase)),
                    220..=269 => self.scratch.extend(city.chars().flat_map(char::to_uppercase)),
                    270..=299 => {
                        let mut chars = city.chars();
                        self.scratch.extend(chars.next());
                        self.scratch.extend(chars.flat_map(char::to_lowercase));
                    }
                    _ => self.scratch.push_str(city),
                }
                put_str(buf, &self.scratch, esc);
            }
        }

        buf.extend_from_slice(b",\"state\":\"");
        buf.extend_from_slice(metro.state.as_bytes());
        buf.extend_from_slice(b"\",\"postal_code\":\"");
        self.postal_code(metro, buf);

        // The city sits at a fixed offset of up to ~0.2 degrees from its
        // metro's centre; businesses spread ~0.05 degrees around it.
        let h = mix64(city_index as u64);
        let city_lat = i64::from(metro.lat) + (h % 4001) as i64 - 2000;
        let city_lon = i64::from(metro.lon) + ((h >> 32) % 4001) as i64 - 2000;
        buf.extend_from_slice(b"\",\"latitude\":");
        put_coord(buf, city_lat * 1000 + i64::from(self.rng.below(1_000_001)) - 500_000);
        buf.extend_from_slice(b",\"longitude\":");
        put_coord(buf, city_lon * 1000 + i64::from(self.rng.below(1_000_001)) - 500_000);

        buf.extend_from_slice(b",\"stars\":");
        buf.extend_from_slice(STARS[self.stars.sample(&mut self.rng)].as_bytes());
        buf.extend_from_slice(b",\"review_count\":");
        push_u64(buf, self.review_count());
        buf.extend_from_slice(if self.rng.chance(8000) {
            b",\"is_open\":1"
        } else {
            b",\"is_open\":0"
        });

        buf.extend_from_slice(b",\"attributes\":");
        if self.rng.chance(1000) {
            buf.extend_from_slice(b"null");
        } else {
            self.attributes(food, buf);
        }

        buf.extend_from_slice(b",\"categories\":");
        if has_categories {
            buf.push(b'"');
            for (i, &c) in self.picked.iter().enumerate() {
                if i > 0 {
                    buf.extend_from_slice(b", ");
                }
                put_str_body(buf, CATEGORIES[c].0, esc);
            }
            buf.push(b'"');
        } else {
            buf.extend_from_slice(b"null");
        }

        buf.extend_from_slice(b",\"hours\":");
        if self.rng.chance(1500) {
            buf.extend_from_slice(b"null");
        } else {
            self.hours(buf);
        }
        buf.extend_from_slice(b"}\n");
    }

    /// 22 characters of the URL-safe base64 alphabet, like Yelp's ids.
    fn business_id(&mut self, buf: &mut Vec<u8>) {
        let mut bits = 0;
        for i in 0..22 {
            if i % 10 == 0 {
                bits = self.rng.u64();
            }
            buf.push(ID_ALPHABET[(bits & 63) as usize]);
            bits >>= 6;
        }
    }

    /// Leaves the business's name in `self.scratch`.
    fn name(&mut self, metro: &Metro, food: bool) {
        let rng = &mut self.rng;
        let s = &mut self.scratch;
        s.clear();
        if metro.lang != Lang::En && metro.lang != Lang::Gb && rng.chance(4500) {
            let (heads, tails) = match metro.lang {
                Lang::Fr => (FR_HEADS, FR_TAILS),
                Lang::De => (DE_HEADS, DE_TAILS),
                _ => (PT_HEADS, PT_TAILS),
            };
            s.push_str(rng.pick(heads));
            s.push(' ');
            s.push_str(rng.pick(tails));
            return;
        }
        if rng.chance(metro.cjk + 40) {
            s.push_str(rng.pick(CJK));
            return;
        }
        if rng.chance(200) {
            s.push_str(rng.pick(ACCENTED));
            return;
        }
        let kind = if food {
            rng.pick(FOOD_KINDS)
        } else {
            rng.pick(OTHER_KINDS)
        };
        match rng.below(100) {
            0..=7 => s.push_str(rng.pick(CHAINS)),
            8..=27 => {
                s.push_str(rng.pick(SURNAMES));
                s.push_str("'s ");
                s.push_str(kind);
            }
            28..=44 => {
                s.push_str(rng.pick(ADJECTIVES));
                s.push(' ');
                s.push_str(rng.pick(NOUNS));
                s.push(' ');
                s.push_str(kind);
            }
            45..=55 => {
                s.push_str("The ");
                s.push_str(rng.pick(ADJECTIVES));
                s.push(' ');
                s.push_str(rng.pick(NOUNS));
            }
            56..=65 => {
                s.push_str(rng.pick(NOUNS));
                s.push_str(" & ");
                s.push_str(rng.pick(NOUNS));
            }
            66..=80 => {
                s.push_str(rng.pick(SURNAMES));
                s.push(' ');
                s.push_str(kind);
            }
            81..=88 => {
                s.push_str(rng.pick(SURNAMES));
                s.push_str(" & ");
                s.push_str(rng.pick(SURNAMES));
                s.push(' ');
                s.push_str(kind);
            }
            89..=94 => {
                s.push_str(rng.pick(ADJECTIVES));
                s.push(' ');
                s.push_str(rng.pick(SLASHED));
            }
            95..=96 => {
                // Quotes inside a name, escaped as `\"`.
                s.push_str("The \"");
                s.push_str(rng.pick(ADJECTIVES));
                s.push(' ');
                s.push_str(rng.pick(NOUNS));
                s.push('"');
            }
            _ => {
                s.push_str(rng.pick(NOUNS));
                s.push(' ');
                s.push_str(kind);
            }
        }
    }

    /// Leaves the business's street address in `self.scratch`.
    fn address(&mut self, metro: &Metro) {
        let rng = &mut self.rng;
        let s = &mut self.scratch;
        s.clear();
        // Some real businesses (food trucks, services) have no address.
        if rng.chance(300) {
            return;
        }
        let number = rng.range(1, 9999);
        match metro.lang {
            Lang::En => {
                push_decimal(s, number);
                s.push(' ');
                s.push_str(rng.pick(EN_DIRECTIONS));
                s.push_str(rng.pick(EN_STREETS));
                s.push(' ');
                s.push_str(rng.pick(EN_SUFFIXES));
                if rng.chance(2000) {
                    s.push_str(rng.pick(UNITS));
                    push_decimal(s, rng.range(1, 450));
                }
            }
            Lang::Gb => {
                push_decimal(s, number % 200 + 1);
                s.push(' ');
                s.push_str(rng.pick(GB_STREETS));
            }
            Lang::Fr => {
                push_decimal(s, number);
                s.push(' ');
                s.push_str(rng.pick(FR_STREETS));
            }
            Lang::De => {
                s.push_str(rng.pick(DE_STREETS));
                s.push(' ');
                push_decimal(s, number % 150 + 1);
            }
            Lang::Pt => {
                s.push_str(rng.pick(PT_STREETS));
                s.push_str(", ");
                push_decimal(s, number % 3000 + 1);
            }
        }
    }

    /// Appends the postal code's characters (inside the quotes).
    fn postal_code(&mut self, metro: &Metro, buf: &mut Vec<u8>) {
        let rng = &mut self.rng;
        if rng.chance(50) {
            return;
        }
        let digit = |rng: &mut Rand| b'0' + rng.below(10) as u8;
        match metro.post {
            Post::Us(prefix) => {
                buf.extend_from_slice(prefix.as_bytes());
                buf.push(digit(rng));
                buf.push(digit(rng));
            }
            Post::Ca(first) => {
                buf.push(first);
                buf.push(digit(rng));
                buf.push(rng.pick(CA_LETTERS));
                buf.push(b' ');
                buf.push(digit(rng));
                buf.push(rng.pick(CA_LETTERS));
                buf.push(digit(rng));
            }
            Post::Uk => {
                buf.extend_from_slice(b"EH");
                push_u64(buf, u64::from(rng.range(1, 17)));
                buf.push(b' ');
                buf.push(digit(rng));
                buf.push(rng.pick(UPPER));
                buf.push(rng.pick(UPPER));
            }
            Post::De(prefix) => {
                buf.extend_from_slice(prefix.as_bytes());
                for _ in 0..3 {
                    buf.push(digit(rng));
                }
            }
            Post::Ch(prefix) => {
                buf.extend_from_slice(prefix.as_bytes());
                buf.push(digit(rng));
                buf.push(digit(rng));
            }
            Post::Br => {
                buf.push(b'0');
                for _ in 0..4 {
                    buf.push(digit(rng));
                }
                buf.push(b'-');
                for _ in 0..3 {
                    buf.push(digit(rng));
                }
            }
        }
    }

    /// At least 3 (the dataset's floor) with a Pareto tail: median ~8, a few
    /// percent in the hundreds, a rare few thousand.
    fn review_count(&mut self) -> u64 {
        let x = u64::from(self.rng.u32() >> 12) + 1;
        let count = 3 + (5 << 20) / x - 5;
        // Redraw the far tail rather than clamp, so there is no spike at
        // the cap.
        if count > 12_000 {
            3 + u64::from(self.rng.below(12_000))
        } else {
            count
        }
    }

    fn attributes(&mut self, food: bool, buf: &mut Vec<u8>) {
        let rng = &mut self.rng;
        buf.push(b'{');
        let mut first = true;
        for attr in ATTRS {
            let per_1000 = if food { attr.food } else { attr.other };
            if per_1000 == 0 || rng.below(1000) >= per_1000 {
                continue;
            }
            put_attr_key(buf, attr.key, &mut first);
            match attr.value {
                AttrValue::OneOf(values) => buf.extend_from_slice(rng.pick(values).as_bytes()),
                AttrValue::Dict(keys) => put_py_dict(buf, keys, rng),
            }
            buf.push(b'"');
        }
        // The real file has no empty attribute dicts: those are null.
        if first {
            put_attr_key(buf, "BusinessAcceptsCreditCards", &mut first);
            buf.extend_from_slice(b"True\"");
        }
        buf.push(b'}');
    }

    fn hours(&mut self, buf: &mut Vec<u8>) {
        let rng = &mut self.rng;
        let days: u8 = match rng.below(100) {
            0..=44 => 0b111_1111,
            45..=64 => 0b001_1111,
            65..=84 => 0b011_1111,
            85..=92 => 0b111_1110,
            _ => (rng.below(127) + 1) as u8,
        };
        // "0:0-0:0" is how the real file writes both 24h and unknown.
        let all_day = rng.chance(400);
        let open_h = rng.pick(&[6, 7, 7, 8, 8, 8, 9, 9, 9, 10, 10, 11, 11, 12, 16, 17]);
        let open_m = rng.pick(&[0, 0, 0, 0, 0, 0, 30, 30, 15, 45]);
        let close_h = if open_h >= 16 {
            rng.pick(&[0, 1, 2, 22, 23])
        } else {
            rng.pick(&[14, 15, 16, 17, 17, 18, 18, 19, 20, 21, 21, 22, 22, 23, 0])
        };
        let close_m = rng.pick(&[0, 0, 0, 0, 30, 30, 45]);
        let weekend_shift = if rng.chance(3000) { 1 } else { 0 };
        buf.push(b'{');
        let mut first = true;
        for (d, day) in DAYS.iter().enumerate() {
            if days & (1 << d) == 0 {
                continue;
            }
            if !first {
                buf.push(b',');
            }
            first = false;
            buf.push(b'"');
            buf.extend_from_slice(day.as_bytes());
            buf.extend_from_slice(b"\":\"");
            if all_day {
                buf.extend_from_slice(b"0:0-0:0");
            } else {
                let shift = if d >= 5 { weekend_shift } else { 0 };
                push_u64(buf, open_h + shift);
                buf.push(b':');
                push_u64(buf, open_m);
                buf.push(b'-');
                push_u64(buf, close_h);
                buf.push(b':');
                push_u64(buf, close_m);
            }
            buf.push(b'"');
        }
        buf.push(b'}');
    }
}

fn put_attr_key(buf: &mut Vec<u8>, key: &str, first: &mut bool) {
    if !*first {
        buf.push(b',');
    }
    *first = false;
    buf.push(b'"');
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b"\":\"");
}

/// A Python dict repr such as `{'garage': False, 'street': True}`, or the
/// string `None` as the real file sometimes has instead.
fn put_py_dict(buf: &mut Vec<u8>, keys: &[&str], rng: &mut Rand) {
    if rng.chance(500) {
        buf.extend_from_slice(b"None");
        return;
    }
    buf.push(b'{');
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            buf.extend_from_slice(b", ");
        }
        buf.push(b'\'');
        buf.extend_from_slice(key.as_bytes());
        buf.extend_from_slice(b"': ");
        buf.extend_from_slice(match rng.below(20) {
            0..=3 => b"True",
            4 => b"None",
            _ => b"False",
        });
    }
    buf.push(b'}');
}

fn push_decimal(s: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        s.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap, HashSet};

    use serde_json::Value;

    use super::super::{Generated, yelp};
    use super::*;

    const SAMPLE: u64 = 2 << 20;

    #[test]
    fn sizes_are_reached_with_whole_lines_and_prefixes_hold() {
        super::super::check_sizes_and_prefixes(
            yelp,
            3 << 20,
            &[1, 100, 700, 801, 5_000, 123_457, 499_999, 3 << 20],
            11,
        );
    }

    fn gen_yelp(size: u64, seed: u64) -> (Vec<u8>, Generated) {
        let mut out = Vec::new();
        let g = yelp(&mut out, size, seed).unwrap();
        (out, g)
    }

    fn sample_lines(seed: u64) -> Vec<String> {
        let (out, _) = gen_yelp(SAMPLE, seed);
        String::from_utf8(out).unwrap().lines().map(str::to_owned).collect()
    }

    fn parse(line: &str) -> serde_json::Map<String, Value> {
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(map)) => map,
            other => panic!("not a JSON object ({other:?}): {line}"),
        }
    }

    fn share(count: usize, total: usize) -> f64 {
        count as f64 / total as f64
    }

    #[test]
    fn deterministic_per_seed() {
        let (a, ga) = gen_yelp(300_000, 42);
        let (b, gb) = gen_yelp(300_000, 42);
        let (c, _) = gen_yelp(300_000, 43);
        assert_eq!(a, b);
        assert_eq!(ga, gb);
        assert_ne!(a, c);
    }

    /// Pins the stream: benchmark inputs must stay byte-identical across
    /// builds. A deliberate change to the generator updates these values
    /// (and invalidates previously generated inputs).
    #[test]
    fn output_is_pinned() {
        let (out, g) = gen_yelp(1, 1);
        assert_eq!(g.records, 1);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            concat!(
                r#"{"business_id":"IhttBULN_YNnbsVn1ciDiQ","name":"Lee Brewing Co.","#,
                r#""address":"9584 River Street","city":"Phoenix","state":"AZ","#,
                r#""postal_code":"85070","latitude":33.4905337,"longitude":-111.9600936,"#,
                r#""stars":4.0,"review_count":16,"is_open":1,"attributes":null,"#,
                r#""categories":"General Dentistry, Indian","hours":{"Monday":"16:0-1:45","#,
                r#""Tuesday":"16:0-1:45","Wednesday":"16:0-1:45","Thursday":"16:0-1:45","#,
                r#""Friday":"16:0-1:45","Saturday":"16:0-1:45","Sunday":"16:0-1:45"}}"#,
                "\n"
            )
        );
        let (out, g) = gen_yelp(65_536, 1);
        assert_eq!(g.bytes, 65_753);
        assert_eq!(fnv1a(&out), 0x30fb_bb3d_17ef_592a);
    }

    fn fnv1a(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    #[test]
    fn every_line_is_a_business_in_the_real_field_order() {
        let lines = sample_lines(1);
        let order = [
            "business_id",
            "name",
            "neighborhood",
            "address",
            "city",
            "state",
            "postal_code",
            "latitude",
            "longitude",
            "stars",
            "review_count",
            "is_open",
            "attributes",
            "categories",
            "hours",
        ];
        let mut ids = HashSet::new();
        let mut open = 0;
        for line in &lines {
            assert!(!line.contains("\": ") && !line.contains(", \""), "not compact: {line}");
            let d = parse(line);
            // Keys appear in the real order (serde_json's map is sorted, so
            // check positions in the raw line).
            let mut last = 0;
            for key in order {
                if let Some(p) = line.find(&format!("\"{key}\":")) {
                    assert!(p >= last, "{key} out of order: {line}");
                    last = p;
                }
            }
            for key in d.keys() {
                assert!(order.contains(&key.as_str()), "unexpected key {key}");
            }
            let id = d["business_id"].as_str().unwrap();
            assert_eq!(id.len(), 22);
            assert!(id.bytes().all(|b| ID_ALPHABET.contains(&b)), "{id}");
            assert!(ids.insert(id.to_owned()), "duplicate id {id}");
            assert!(d["name"].is_string() && d["address"].is_string());
            assert!(d["state"].is_string() && d["postal_code"].is_string());
            let lat = d["latitude"].as_f64().unwrap();
            let lon = d["longitude"].as_f64().unwrap();
            assert!((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon));
            let stars = d["stars"].as_f64().unwrap();
            assert!((1.0..=5.0).contains(&stars) && (stars * 2.0).fract() == 0.0);
            assert!(line.contains(&format!("\"stars\":{stars:.1},")), "stars not x.y");
            assert!(d["review_count"].as_u64().unwrap() >= 3);
            let is_open = d["is_open"].as_u64().unwrap();
            assert!(is_open <= 1);
            open += is_open as usize;
        }
        let open = share(open, lines.len());
        assert!((0.75..0.85).contains(&open), "is_open share {open}");
    }

    #[test]
    fn null_fields_and_value_shapes() {
        let lines = sample_lines(2);
        let n = lines.len();
        let (mut attrs_null, mut hours_null, mut cats_null) = (0, 0, 0);
        let mut attr_values: HashSet<String> = HashSet::new();
        let mut py_dicts = 0;
        let mut multi_category = 0;
        let mut comma_in_category = 0;
        for line in &lines {
            let d = parse(line);
            match &d["attributes"] {
                Value::Null => attrs_null += 1,
                Value::Object(attrs) => {
                    assert!(!attrs.is_empty());
                    for v in attrs.values() {
                        let v = v.as_str().expect("attribute values are strings");
                        if v.starts_with("{'") {
                            assert!(v.ends_with('}') && v.contains("': "), "{v}");
                            py_dicts += 1;
                        }
                        attr_values.insert(v.to_owned());
                    }
                }
                other => panic!("attributes {other}"),
            }
            match &d["hours"] {
                Value::Null => hours_null += 1,
                Value::Object(hours) => {
                    assert!(!hours.is_empty());
                    for (day, v) in hours {
                        assert!(DAYS.contains(&day.as_str()), "{day}");
                        let v = v.as_str().unwrap();
                        let (open, close) = v.split_once('-').unwrap();
                        for t in [open, close] {
                            let (h, m) = t.split_once(':').unwrap();
                            assert!(h.parse::<u8>().unwrap() < 24, "{v}");
                            assert!(m.parse::<u8>().unwrap() < 60, "{v}");
                            assert!(m == "0" || m.len() == 2, "minutes unpadded: {v}");
                        }
                    }
                }
                other => panic!("hours {other}"),
            }
            match &d["categories"] {
                Value::Null => cats_null += 1,
                Value::String(c) => {
                    // Split on the table's names, not on ",", because some
                    // names contain a comma.
                    let mut rest = c.as_str();
                    let mut count = 0;
                    while !rest.is_empty() {
                        let name = CATEGORIES
                            .iter()
                            .map(|(name, _)| *name)
                            .filter(|name| {
                                rest.starts_with(name)
                                    && (rest.len() == name.len() || rest[name.len()..].starts_with(", "))
                            })
                            .max_by_key(|name| name.len())
                            .unwrap_or_else(|| panic!("unknown category in {c}"));
                        comma_in_category += usize::from(name.contains(','));
                        rest = rest[name.len()..].trim_start_matches(", ");
                        count += 1;
                    }
                    assert!((1..=6).contains(&count), "{c}");
                    multi_category += usize::from(count > 1);
                }
                other => panic!("categories {other}"),
            }
        }
        let rate = share(attrs_null, n);
        assert!((0.07..0.13).contains(&rate), "attributes null {rate}");
        let rate = share(hours_null, n);
        assert!((0.12..0.18).contains(&rate), "hours null {rate}");
        let rate = share(cats_null, n);
        assert!(cats_null > 0 && rate < 0.025, "categories null {rate}");
        for v in ["u'casual'", "'none'", "True", "False", "None", "2"] {
            assert!(attr_values.contains(v), "attribute value {v} missing");
        }
        assert!(attr_values.iter().any(|v| v.starts_with("{'garage': ")));
        assert!(py_dicts > n / 4, "{py_dicts} Python dict reprs");
        assert!(share(multi_category, n) > 0.5);
        assert!(comma_in_category > 0, "no category name with a comma");
    }

    #[test]
    fn escapes_and_non_ascii() {
        let lines = sample_lines(3);
        let n = lines.len();
        let (mut slash_escaped, mut u_escaped, mut raw_utf8, mut cjk, mut quoted) = (0, 0, 0, 0, 0);
        let mut decoded_slash = false;
        for line in &lines {
            let d = parse(line);
            if line.contains("\\/") {
                slash_escaped += 1;
            }
            if line.contains("\\u00") {
                u_escaped += 1;
            }
            if !line.is_ascii() {
                raw_utf8 += 1;
            }
            if line.contains("\\\"") {
                quoted += 1;
            }
            let strings = ["name", "address", "city", "categories"]
                .iter()
                .filter_map(|k| d.get(*k).and_then(Value::as_str));
            for s in strings {
                decoded_slash |= s.contains('/');
                assert!(!s.contains("\\/") && !s.contains("\\u"), "undecoded escape in {s}");
                cjk += s.chars().filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c)).count();
            }
        }
        assert!(slash_escaped > n / 200, "\\/ on {slash_escaped} lines");
        assert!(decoded_slash);
        assert!(u_escaped > n / 100, "\\u00XX on {u_escaped} lines");
        assert!(raw_utf8 > n / 100, "raw UTF-8 on {raw_utf8} lines");
        assert!(cjk > 0, "no CJK");
        assert!(quoted > 0, "no escaped quote");
        let all = lines.concat();
        for raw in ["Montréal", "Montr\\u00e9al", "Zürich", "Québec", "São Paulo"] {
            assert!(all.contains(raw), "{raw} missing");
        }
    }

    #[test]
    fn city_quirks_and_skew() {
        let lines = sample_lines(4);
        let n = lines.len();
        let (mut missing, mut null, mut empty) = (0, 0, 0);
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut neighborhood = 0;
        let states: HashMap<&str, BTreeSet<&str>> = CITIES.iter().fold(HashMap::new(), |mut m, &(city, metro)| {
            m.entry(city).or_default().insert(METROS[metro].state);
            m
        });
        for line in &lines {
            let d = parse(line);
            neighborhood += usize::from(d.contains_key("neighborhood"));
            match d.get("city") {
                None => missing += 1,
                Some(Value::Null) => null += 1,
                Some(Value::String(c)) if c.is_empty() => empty += 1,
                Some(Value::String(c)) => {
                    *counts.entry(c.clone()).or_default() += 1;
                    // State matches the city's, whatever the city's case.
                    let state = d["state"].as_str().unwrap();
                    let known = CITIES
                        .iter()
                        .find(|(name, _)| name.to_lowercase() == c.to_lowercase())
                        .unwrap_or_else(|| panic!("unknown city {c}"));
                    assert!(states[known.0].contains(state), "{c} in {state}");
                }
                Some(other) => panic!("city {other}"),
            }
        }
        assert!(missing > 0 && share(missing, n) < 0.01, "missing city {missing}");
        assert!(null > 0 && share(null, n) < 0.01, "null city {null}");
        assert!(empty > 0 && share(empty, n) < 0.015, "empty city {empty}");
        for variant in ["las vegas", "LAS VEGAS"] {
            assert!(counts.contains_key(variant), "{variant} missing");
        }
        let rate = share(neighborhood, n);
        assert!((0.17..0.23).contains(&rate), "neighborhood {rate}");

        let mut ranked: Vec<(usize, &String)> = counts.iter().map(|(c, &k)| (k, c)).collect();
        ranked.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(ranked[0].1, "Las Vegas");
        let top = share(ranked[0].0, n);
        assert!((0.03..0.25).contains(&top), "top city share {top}");
        assert!(ranked[0].0 as f64 > 1.2 * ranked[1].0 as f64, "top not clearly ahead");
        assert!(counts.len() > 150, "only {} cities", counts.len());
    }

    #[test]
    fn tables_are_consistent() {
        assert!((280..=320).contains(&CITIES.len()));
        assert!((100..=130).contains(&CATEGORIES.len()));
        let names: HashSet<&str> = CITIES.iter().map(|c| c.0).collect();
        // Only the deliberate same-name-other-state pairs repeat.
        assert_eq!(names.len(), CITIES.len() - 2);
        let cats: HashSet<&str> = CATEGORIES.iter().map(|c| c.0).collect();
        assert_eq!(cats.len(), CATEGORIES.len());
    }

    #[test]
    fn escaping_matches_serde() {
        let s = "Bar / Grill \"Café\" \\ 寿司 😀";
        for (ascii, slash) in [(false, false), (true, true)] {
            let mut buf = Vec::new();
            put_str(&mut buf, s, Escapes { ascii, slash });
            let text = String::from_utf8(buf).unwrap();
            assert_eq!(serde_json::from_str::<String>(&text).unwrap(), s);
            assert_eq!(text.contains("\\/"), slash);
            assert_eq!(text.is_ascii(), ascii);
        }
        let mut buf = Vec::new();
        put_str(
            &mut buf,
            "é😀",
            Escapes {
                ascii: true,
                slash: false,
            },
        );
        assert_eq!(buf, b"\"\\u00e9\\ud83d\\ude00\"");
    }

    #[test]
    fn coordinates_print_like_python_floats() {
        for (e7, want) in [
            (361_699_412, "36.1699412"),
            (-1_151_398_000, "-115.1398"),
            (360_000_000, "36.0"),
            (500_000, "0.05"),
            (-235_505_001, "-23.5505001"),
        ] {
            let mut buf = Vec::new();
            put_coord(&mut buf, e7);
            assert_eq!(buf, want.as_bytes());
        }
    }
}
