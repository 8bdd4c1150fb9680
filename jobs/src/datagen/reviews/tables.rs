//! The review generator's tables: sentence templates by sentiment, the
//! words that fill their slots, and the distributions behind the numbers.
//! All text is invented; none of it comes from real reviews.
//!
//! A template is plain text with `$x` slots, each filled with one draw:
//!
//! | slot | filled with                         | slot | filled with                      |
//! |------|-------------------------------------|------|----------------------------------|
//! | `$D` | a dish ([`DISHES`])                 | `$M` | a first name ([`NAMES`])         |
//! | `$A` | a good adjective ([`GOOD`])         | `$K` | a kind of place ([`PLACES`])     |
//! | `$B` | a bad adjective ([`BAD`])           | `$m` | minutes, 5-95                    |
//! | `$V` | an intensifier ([`INTENSIFIERS`])   | `$n` | a small count, 2-12              |
//! | `$S` | a staff member ([`STAFF`])          | `$p` | a price, `$8`-`$85`              |
//! | `$P` | a companion ([`COMPANIONS`])        | `$s` | the review's own stars, 1-5      |
//! | `$O` | an occasion ([`OCCASIONS`])         | `$R` | a score out of ten, 1-10         |
//! | `$T` | a time phrase ([`TIMES`])           | `$E` | an emoji ([`EMOJI`])             |
//!
//! Templates hold `"` (escaped as `\"` on output), `/` (escaped as `\/` on
//! some lines) and `'` (a curly `’` in some reviews).

/// Sentences for 4 and 5 star reviews (and some 3 star ones).
pub(super) const POSITIVE: &[&str] = &[
    "The $D was $V $A.",
    "Everything we ordered was $A, especially the $D.",
    "Our server $M was $V friendly and checked on us often.",
    "I came here for $O with my $P and we loved it.",
    "Best $D I've had in a long time!",
    "The $D is a must, and the $D is $V $A too.",
    "$R/10 would come back.",
    "Can't wait to come back and try the $D.",
    "Highly recommend this $K!",
    "The staff made us feel right at home.",
    "Portions are huge and the prices are fair, about $p per person.",
    "We were seated right away $T and the food came out fast.",
    "The $S recommended the $D and it did not disappoint.",
    "This is my new favorite $K in town.",
    "Such a $A little $K, and the $D is $A.",
    "Shout out to $M for taking such good care of us!",
    "I'm still thinking about that $D $E",
    "Five stars for the $D alone.",
    "My $P ordered the $D and could not stop talking about it.",
    "Fresh, $A, and $V reasonably priced.",
    "The patio is lovely $T.",
    "We've been coming here for years and it's never let us down.",
    "The \"small\" $D was enough for $n people.",
    "Great vibe, great music, $A $D.",
    "If you're in the area, do yourself a favor and stop by.",
    "The owner came by our table to say hi, which was a nice touch.",
    "Definitely worth the wait.",
    "Everything tasted homemade and $A.",
    "Came for the $D, stayed for the $D.",
    "Overall $s/5, and I'd go back tomorrow.",
    "The $D w/ extra sauce is the way to go.",
    "Open late, which is perfect after a long shift.",
    "They were $V accommodating when we asked for changes.",
    "A hidden gem — don't let the outside fool you.",
    "Love love love this $K $E",
    "The $S even remembered our names from last time.",
];

/// Sentences for 1 and 2 star reviews (and some 3 star ones).
pub(super) const NEGATIVE: &[&str] = &[
    "The $D was $V $B.",
    "We waited $m minutes for a table even though we had a reservation.",
    "Our server $M seemed annoyed every time we asked for something.",
    "The $D came out $B and nobody checked on us.",
    "Way too expensive for what you get, $p for a plate of $D.",
    "I wanted to like this $K, I really did.",
    "Never again.",
    "The $S got our order wrong twice.",
    "Not worth the hype.",
    "The tables were sticky and the floor wasn't much better.",
    "We waited $m minutes for our food $T.",
    "My $P's $D was $B and mine wasn't much better.",
    "The so-called \"fresh\" $D tasted like it came out of a freezer.",
    "When we complained, the manager just shrugged.",
    "It's gone downhill since the last time I was here.",
    "The music was so loud we couldn't hear each other.",
    "$R/10, and that's being generous.",
    "I've had better $D at a gas station.",
    "They charged us for $n drinks we never ordered.",
    "Save your money and go somewhere else.",
    "The $D was $B, the $D was $B, and the service was slow.",
    "Parking is a nightmare $T.",
    "Overall $s/5, would not recommend.",
    "They were out of the $D, again.",
    "The place smelled like old grease.",
    "We asked for the check $n times before it came.",
    "Rude staff, $B food, long wait $E",
    "I don't understand the good reviews.",
    "Hair in my $D… enough said.",
    "The \"chef's special\" was just $B $D.",
    "Called ahead to ask about the wait and they hung up on me.",
];

/// Sentences that fit any review.
pub(super) const NEUTRAL: &[&str] = &[
    "We came here $T for $O.",
    "I ordered the $D and my $P got the $D.",
    "The menu is pretty big, so it took a while to decide.",
    "Parking can be tricky $T, so plan ahead.",
    "It's a small $K with maybe $n tables.",
    "Prices are about $p per person.",
    "They take reservations, but walk-ins are fine on weekdays.",
    "The $D was okay, nothing special.",
    "Service was $A but the $D was a little $B.",
    "The $S told us the $D is their most popular dish.",
    "We sat at the bar since the wait was $m minutes.",
    "They have a happy hour from 3-6 on weekdays.",
    "It gets busy $T, so come early.",
    "They recently changed the menu and took off the $D.",
    "The $D was $A, the $D not so much.",
    "Decent $K if you're in the area.",
    "Cash only, so bring some with you.",
    "Located in a strip mall next to a laundromat.",
    "I've been here $n times now.",
    "We ordered the $D to share.",
    "My $P says the \"house\" $D is the best thing on the menu.",
    "They have vegan and gluten-free options.",
    "The $D comes w/ a side of $D.",
    "It's hit or miss depending on who's cooking.",
    "Open 24/7, which is handy.",
    "Update: came back $T and it was about the same.",
    "It's a good spot for $O.",
    "The decor is kind of dated but clean.",
    "Wifi is free but slow.",
    "The line was out the door, which is usually a good sign.",
    "Our order was ready in about $m minutes.",
    "3.5 stars really, rounding up.",
];

pub(super) const DISHES: &[&str] = &[
    "tacos",
    "burger",
    "pad thai",
    "fried chicken",
    "brisket",
    "pho",
    "phở",
    "ramen",
    "pizza",
    "margherita pizza",
    "carnitas",
    "jalapeño poppers",
    "fish and chips",
    "clam chowder",
    "crème brûlée",
    "tiramisu",
    "chicken wings",
    "mac and cheese",
    "pancakes",
    "eggs benedict",
    "french toast",
    "breakfast burrito",
    "açaí bowl",
    "crêpes",
    "café au lait",
    "latte",
    "cold brew",
    "piña colada",
    "margarita",
    "sushi",
    "spicy tuna roll",
    "dumplings",
    "soup dumplings",
    "orange chicken",
    "fried rice",
    "lo mein",
    "curry",
    "chicken tikka masala",
    "garlic naan",
    "falafel",
    "shawarma",
    "gyro",
    "hummus",
    "steak",
    "ribeye",
    "short ribs",
    "pulled pork",
    "cornbread",
    "biscuits and gravy",
    "shrimp and grits",
    "lobster roll",
    "oysters",
    "poke bowl",
    "bibimbap",
    "bulgogi",
    "banh mi",
    "enchiladas",
    "chips and salsa",
    "guacamole",
    "quesadilla",
    "nachos",
    "cheesecake",
    "chocolate cake",
    "gelato",
    "donuts",
    "croissant",
    "bagel",
    "sandwich",
    "Caesar salad",
    "house salad",
    "lasagna",
    "spaghetti",
    "gnocchi",
    "risotto",
    "calamari",
    "wings",
    "chef's special",
    "poutine",
    "jerk chicken",
    "empanadas",
    "paella",
    "schnitzel",
    "Käsespätzle",
];

pub(super) const GOOD: &[&str] = &[
    "amazing",
    "delicious",
    "great",
    "fantastic",
    "excellent",
    "perfect",
    "fresh",
    "tasty",
    "awesome",
    "incredible",
    "solid",
    "flavorful",
    "outstanding",
    "wonderful",
    "cozy",
    "friendly",
    "good",
    "on point",
];

pub(super) const BAD: &[&str] = &[
    "bland",
    "cold",
    "overcooked",
    "undercooked",
    "soggy",
    "greasy",
    "dry",
    "salty",
    "overpriced",
    "stale",
    "mediocre",
    "disappointing",
    "lukewarm",
    "burnt",
    "gross",
    "tiny",
];

pub(super) const INTENSIFIERS: &[&str] = &[
    "really",
    "super",
    "so",
    "very",
    "incredibly",
    "pretty",
    "absolutely",
    "a bit",
    "honestly",
    "seriously",
    "kind of",
    "extremely",
];

pub(super) const STAFF: &[&str] = &[
    "server",
    "waitress",
    "waiter",
    "bartender",
    "hostess",
    "manager",
    "cashier",
    "chef",
    "owner",
    "staff",
];

pub(super) const COMPANIONS: &[&str] = &[
    "husband",
    "wife",
    "friend",
    "boyfriend",
    "girlfriend",
    "mom",
    "dad",
    "sister",
    "brother",
    "coworker",
    "roommate",
    "son",
    "daughter",
    "partner",
];

pub(super) const OCCASIONS: &[&str] = &[
    "lunch",
    "dinner",
    "brunch",
    "breakfast",
    "happy hour",
    "a birthday dinner",
    "date night",
    "our anniversary",
    "a quick bite",
    "takeout",
    "a work lunch",
    "late night drinks",
    "dessert",
    "a family dinner",
];

pub(super) const TIMES: &[&str] = &[
    "on a Friday night",
    "on a Saturday",
    "last weekend",
    "around noon",
    "after work",
    "on a Tuesday",
    "late at night",
    "on a Sunday morning",
    "during the lunch rush",
    "last night",
    "on a weeknight",
    "over the holidays",
];

pub(super) const NAMES: &[&str] = &[
    "Jessica", "Mike", "Ashley", "Chris", "Sarah", "Matt", "Amanda", "Josh", "Emily", "David", "Nicole", "Tony",
    "Maria", "Kevin", "Lauren", "Brian", "Megan", "Jason", "Rachel", "Steve", "José", "Zoë", "Renée", "André", "Chloé",
    "Ana", "Sam", "Alex", "Jordan", "Taylor",
];

pub(super) const PLACES: &[&str] = &[
    "place",
    "spot",
    "restaurant",
    "joint",
    "cafe",
    "café",
    "diner",
    "bar",
    "bistro",
    "food truck",
    "bakery",
    "shop",
];

/// Emoji, most outside the Basic Multilingual Plane (so `\ud83d\ude0b`-style
/// surrogate pairs when escaped), one with a variation selector.
pub(super) const EMOJI: &[&str] = &[
    "😋", "😍", "👍", "🔥", "🙌", "💯", "🤤", "😡", "👎", "🍕", "🍔", "🌮", "🍣", "☕", "✨", "❤️", "😂", "🙄",
];

/// Lines that are not JSON at all, for `--malformed-per-mille`: what a
/// broken export, a proxy error or a concatenated log leaves in a file.
pub(super) const GARBAGE: &[&str] = &[
    "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>",
    "review_id,user_id,business_id,stars,useful,funny,cool,text,date",
    "ERROR: connection reset by peer while reading response",
    "-- export continues in part 2 --",
    "\u{feff}",
    "}",
    "NaN",
    "[truncated]",
    "{\"review_id\":",
    "stars=4 useful=0 funny=0 cool=0",
];

/// Reviews per year, 2005 to 2021, in rough proportion to how the site
/// grew (with 2020's dip).
pub(super) const FIRST_YEAR: u32 = 2005;
pub(super) const YEAR_WEIGHTS: &[u64] = &[
    1, 4, 15, 45, 75, 135, 225, 290, 380, 520, 690, 760, 820, 910, 900, 490, 620,
];

/// Star weights (1 star first) for a business of each quality: most
/// reviews are 4 or 5 stars, with a second, smaller peak at 1.
pub(super) const STAR_WEIGHTS: [&[u64]; 3] = [
    &[50, 30, 60, 230, 630],    // well liked
    &[150, 80, 100, 210, 460],  // typical
    &[350, 150, 130, 150, 220], // poorly liked
];

/// Paragraphs per review (1 to 8) and sentences per paragraph (1 to 6).
pub(super) const PARAGRAPH_WEIGHTS: &[u64] = &[45, 25, 15, 8, 3, 2, 1, 1];
pub(super) const SENTENCE_WEIGHTS: &[u64] = &[12, 20, 24, 20, 14, 10];

pub(super) const ID_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Days before each month's first day, in a common year.
pub(super) const MONTH_STARTS: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
