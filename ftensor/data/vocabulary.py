"""Real-looking words for synthetic designs: headlines, calls to action and body copy."""

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
