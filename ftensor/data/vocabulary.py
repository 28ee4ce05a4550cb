"""Real-looking words for synthetic designs: headlines, calls to action and body copy."""

import numpy as np

HEADLINE_WORDS = (
    "Summer Sale Grand Opening Live Music Night Fresh Coffee Design Week Open House Big Ideas "
    "Future Now Think Different Spring Market Jazz Festival Tech Summit Art Show Food Fair New "
    "Collection Winter Deals Hello World Join Us Save Big Book Club Yoga Class Run Together Local "
    "Farmers Annual Report Product Launch Welcome Back Holiday Special Free Workshop City Tours"
).split()

SUBHEADING_WORDS = (
    "Everything you need in one place This weekend only Discover the new season Meet the team "
    "Made with care since Limited seats available Ideas that move people Tickets on sale now"
).split()

BODY_WORDS = (
    "the a and of to in for with on at by from our your you we this that new more best all every "
    "day week night time people city design music coffee food art team event season offer price "
    "free fresh local live open great simple modern classic bright bold quiet warm small large "
    "join meet discover enjoy explore learn share create build grow save find start visit taste "
    "community studio market garden gallery kitchen festival workshop program project company "
    "friends family guests members students artists makers partners together better faster easier"
).split()

BUTTON_LABELS = (
    "Buy now",
    "Sign up",
    "Learn more",
    "Book a seat",
    "Get started",
    "Shop",
    "Join",
    "RSVP",
    "Order",
    "Download",
    "Subscribe",
    "Contact us",
    "Register",
    "Try it",
    "Read more",
)

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()
WORD_COUNTS = {"headline": (1, 5), "subheading": (2, 8), "body": (6, 30), "caption": (2, 9)}


def figure(rng: np.random.Generator) -> str:
    """A number as designs print them: a price, a date, a time, a percentage, a year or a count."""
    kind = int(rng.integers(7))
    if kind == 0:
        return f"${rng.integers(1, 500)}" + (f".{rng.integers(0, 100):02d}" if rng.random() < 0.5 else "")
    if kind == 1:
        return f"{DAYS[rng.integers(7)]} {rng.integers(1, 32)} {MONTHS[rng.integers(12)]}"
    if kind == 2:
        return f"{rng.integers(1, 13)}:{rng.choice(['00', '15', '30', '45'])} {rng.choice(['am', 'pm', 'PM'])}"
    if kind == 3:
        return f"{rng.integers(5, 95)}%"
    if kind == 4:
        return str(rng.integers(1990, 2031))
    if kind == 5:
        return f"{rng.integers(1, 29):02d}.{rng.integers(1, 13):02d}.{rng.integers(20, 31)}"
    return f"{rng.integers(1, 1000):,}" if rng.random() < 0.5 else f"No. {rng.integers(1, 100)}"


def copy_words(rng: np.random.Generator, role: str) -> list[str]:
    """Words for one text block: role-appropriate vocabulary in upper, title or sentence case, with
    figures (prices, dates, times) and punctuation mixed in, as real copy has them."""
    vocab = {"headline": HEADLINE_WORDS, "subheading": SUBHEADING_WORDS}.get(role, BODY_WORDS)
    words = [str(w) for w in rng.choice(vocab, size=int(rng.integers(*WORD_COUNTS[role])))]
    for k in range(len(words)):
        if rng.random() < 0.08:
            words[k] = figure(rng)
    if len(words) > 3 and rng.random() < 0.5:
        k = int(rng.integers(1, len(words) - 1))
        words[k] += str(rng.choice([",", ",", ".", ":", " -", "!", "?", ";"]))
    case = rng.random()
    if case < (0.35 if role in ("headline", "caption") else 0.08):
        words = [w.upper() for w in words]
    elif case < 0.6 and role in ("headline", "subheading"):
        words = [w[:1].upper() + w[1:] for w in words]
    else:
        words[0] = words[0][:1].upper() + words[0][1:]
    if role in ("body", "subheading") and rng.random() < 0.4:
        words[-1] += str(rng.choice([".", "!", "...", "?"]))
    return words
