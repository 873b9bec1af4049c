"""Synthetic conversational English from a seed, for the benches that need stored conversations.

Conversations of 10-20 turns (one ``add_message`` call each) about a person, a place, an
activity, a food, a venue and an event, drawn with a Zipf law from word lists of a few thousand
words (real words for activities, food, things and feelings; made-up but pronounceable names for
people and places), with dates, and a stated preference in about one user turn in five; and
questions about them ("When did I go pottery with Pixette?").
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_memos.types import MessageInput

START = dt.datetime(2022, 1, 3, 9, 0)
CONVERSATION_SPACING = dt.timedelta(hours=7, minutes=13)


def _words(text: str) -> list[str]:
    """A word list; ``_`` joins the words of one entry ("book_club")."""
    return [word.replace("_", " ") for word in text.split()]


# ---- vocabulary ------------------------------------------------------------------------------
#
# Real words where a conversation would use common words; generated names where it would use
# proper nouns (people, places, venues, pets), of which real conversations have many. Every list
# is drawn from with a Zipf law, so that a few words are in thousands of memories and most in a
# handful, as in real text.

ACTIVITIES = _words("""
hiking swimming running cycling climbing skiing surfing sailing kayaking rowing
fishing camping gardening painting drawing sketching knitting sewing baking cooking grilling
dancing singing drumming journaling reading writing blogging podcasting photographing filming
volunteering mentoring tutoring teaching coaching studying researching coding debugging gaming
bowling golfing skating snowboarding paddleboarding snorkeling diving birdwatching stargazing
woodworking pottery sculpting calligraphy origami quilting crocheting embroidery beekeeping
foraging jogging walking stretching meditating boxing fencing wrestling archery juggling chess
puzzling collecting thrifting shopping decorating renovating repainting tiling plumbing cleaning
organizing decluttering composting recycling brewing fermenting pickling canning roasting
skateboarding trekking backpacking mountaineering bouldering canoeing windsurfing rafting
horseriding ballet salsa tango karaoke improv theater busking sightseeing""")

FOODS = _words("""
sushi ramen pizza pasta lasagna risotto paella tacos burritos enchiladas nachos
curry biryani dumplings noodles pho bibimbap kimchi tempura udon falafel hummus shawarma
kebab gyros moussaka baklava croissants baguettes pancakes waffles omelettes bagels muffins
scones brownies cheesecake tiramisu gelato sorbet pudding custard macarons cupcakes donuts
salad soup stew chili goulash borscht gazpacho ceviche oysters lobster shrimp salmon tuna cod
halibut scallops mussels calamari steak brisket ribs meatballs sausages bratwurst schnitzel
burgers sandwiches wraps quesadillas empanadas arepas tamales polenta gnocchi ravioli tortellini
pierogi couscous tabbouleh quinoa lentils chickpeas tofu tempeh seitan avocado mango papaya
pineapple strawberries blueberries raspberries cherries peaches apricots plums figs dates
almonds walnuts pistachios cashews chocolate caramel vanilla cinnamon ginger garlic basil pesto
mozzarella parmesan cheddar brie feta halloumi yogurt granola oatmeal smoothies espresso
cappuccino latte matcha chai lemonade kombucha cider wine beer whiskey""")

THINGS = _words("""
bicycle guitar piano violin camera laptop tablet phone headphones speaker backpack
tent kayak surfboard skateboard telescope microscope notebook journal sketchbook novel cookbook
magazine vinyl record poster painting sculpture vase lamp sofa armchair bookshelf desk rug
curtains blanket quilt pillow mattress kettle blender toaster oven stove fridge freezer dishwasher
microwave grill smoker thermos bottle mug teapot cupboard drawer wardrobe jacket sweater scarf
gloves boots sneakers sandals umbrella suitcase passport ticket map compass flashlight lantern
hammock shovel rake wheelbarrow ladder drill hammer saw toolbox paintbrush easel canvas loom
sewing_machine yarn fabric beads necklace bracelet earrings ring watch sunglasses helmet wetsuit
snorkel flippers paddle oar rope harness carabiner skis poles sled kite drone robot puzzle
boardgame deck dice trophy medal certificate diploma scholarship contract invoice receipt
garden balcony porch attic basement garage kitchen bathroom bedroom studio workshop greenhouse
car van truck scooter motorcycle train ferry plane bus tram""")

FEELINGS = _words("""
amazing wonderful fantastic incredible lovely beautiful gorgeous stunning peaceful
relaxing exhausting exciting thrilling terrifying scary stressful chaotic hilarious funny
awkward strange weird surprising disappointing frustrating annoying boring tedious delightful
charming cozy crowded quiet noisy expensive cheap overpriced affordable delicious bland spicy
salty sweet bitter sour greasy fresh stale rainy sunny windy foggy snowy humid freezing
scorching gloomy bright colorful elegant shabby rustic modern historic ancient tiny huge
enormous cramped spacious messy tidy slow fast bumpy smooth steep muddy dusty sandy rocky
memorable unforgettable magical nostalgic bittersweet emotional inspiring motivating rewarding
challenging demanding tiring refreshing soothing healing uplifting heartwarming""")

EVENTS = _words("""
wedding birthday party anniversary graduation reunion concert festival marathon
triathlon tournament championship match game recital exhibition gallery_opening premiere
conference workshop seminar lecture meetup hackathon fundraiser auction parade fair market
carnival picnic barbecue potluck dinner brunch lunch breakfast retreat vacation holiday trip
roadtrip cruise camping_trip housewarming baby_shower funeral memorial ceremony interview
promotion launch demo presentation audition rehearsal tryout competition quiz trivia_night
book_club game_night movie_night open_mic karaoke_night talent_show charity_run bake_sale
yard_sale garage_sale science_fair art_fair job_fair career_day field_trip sleepover""")

VENUES = _words("""
cafe bakery bistro diner restaurant pub bar brewery winery vineyard market
library bookstore museum gallery theater cinema stadium arena park garden beach lake river
harbor marina pier island mountain valley canyon forest desert trail campsite lodge cabin hostel
hotel resort spa gym studio pool rink court field track school college university office
hospital clinic church temple mosque synagogue community_center farm orchard zoo aquarium
castle palace cathedral bridge tower lighthouse plaza square station airport""")

JOBS = _words("""
teacher nurse doctor engineer designer developer lawyer accountant chef baker
barista carpenter plumber electrician mechanic pilot driver farmer gardener librarian
journalist photographer artist musician writer editor scientist researcher professor student
manager consultant therapist counselor pharmacist dentist veterinarian architect firefighter
paramedic police_officer soldier sailor coach trainer tailor florist jeweler translator""")

RELATIONS = _words("""
sister brother mom dad aunt uncle cousin grandma grandpa niece nephew daughter
son wife husband partner girlfriend boyfriend roommate neighbor colleague coworker boss mentor
friend classmate teammate landlord""")

MONTHS = _words(
    "January February March April May June July August September October November December"
)
WEEKDAYS = _words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")

_ONSETS = _words(
    "b bl br c ch cl cr d dr f fl fr g gl gr h j k kl l m n p pl pr qu r s sh sk sl sm sn sp "
    "st str t th tr v w y z"
)
_VOWELS = _words("a e i o u a e i o ai ea ie ou")
_CODAS = ["", "", "", "n", "r", "l", "s", "m", "nd", "rt", "st", "th", "x", "ck"]
_NAME_ENDS = ["a", "o", "ie", "el", "en", "an", "on", "ina", "ette", "us", "is", "y", "ar"]
_PLACE_ENDS = [
    "ton",
    "ville",
    "ford",
    "burg",
    "field",
    "haven",
    "port",
    "mouth",
    "dale",
    "wick",
    "stead",
    "bridge",
    "ham",
    "mere",
    "stone",
    "crest",
    "bay",
    "holm",
]


def _made_up(rng: random.Random, ends: Sequence[str], count: int, taken: set[str]) -> list[str]:
    """``count`` distinct pronounceable capitalised words, none in ``taken``."""
    out: list[str] = []
    while len(out) < count:
        syllables = rng.choice((1, 1, 2))
        stem = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
        )
        word = (stem + rng.choice(ends)).capitalize()
        if word.lower() not in taken and 4 <= len(word) <= 11:
            taken.add(word.lower())
            out.append(word)
    return out


class Zipf:
    """Draws from ``items`` with probability proportional to 1 / rank ** ``s``."""

    def __init__(self, items: Sequence[str], rng: random.Random, s: float = 1.0) -> None:
        shuffled = list(items)
        rng.shuffle(shuffled)  # which word is common is part of the seed
        self.items = shuffled
        self.cumulative = list(
            itertools.accumulate(1 / rank**s for rank in range(1, len(items) + 1))
        )

    def __call__(self, rng: random.Random) -> str:
        index = bisect.bisect_left(self.cumulative, rng.random() * self.cumulative[-1])
        return self.items[min(index, len(self.items) - 1)]


class Vocabulary:
    def __init__(self, seed: int) -> None:
        rng = random.Random(f"vocabulary:{seed}")
        real = [*ACTIVITIES, *FOODS, *THINGS, *FEELINGS, *EVENTS, *VENUES, *JOBS, *RELATIONS]
        taken = {word.lower() for word in real}
        self.people = Zipf(_made_up(rng, _NAME_ENDS, 2000, taken), rng, s=0.9)
        self.places = Zipf(_made_up(rng, _PLACE_ENDS, 1200, taken), rng, s=0.9)
        self.venue_names = Zipf(_made_up(rng, _NAME_ENDS, 500, taken), rng, s=0.9)
        self.pets = Zipf(_made_up(rng, _NAME_ENDS, 300, taken), rng, s=0.9)
        self.activities = Zipf(ACTIVITIES, rng, s=0.7)
        self.foods = Zipf(FOODS, rng, s=0.7)
        self.things = Zipf(THINGS, rng, s=0.7)
        self.feelings = Zipf(FEELINGS, rng, s=0.5)
        self.events = Zipf(EVENTS, rng, s=0.7)
        self.venues = Zipf(VENUES, rng, s=0.7)
        self.jobs = Zipf(JOBS, rng, s=0.7)
        self.relations = Zipf(RELATIONS, rng, s=0.5)
        self.size = len({w.lower() for w in real}) + 2000 + 1200 + 500 + 300


# ---- conversations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    """What conversation ``k`` is about; a pure function of the seed and ``k``."""

    person: str
    relation: str
    place: str
    activity: str
    food: str
    thing: str
    event: str
    venue: str
    venue_name: str
    month: str
    weekday: str


def topic(vocabulary: Vocabulary, rng: random.Random) -> Topic:
    return Topic(
        person=vocabulary.people(rng),
        relation=vocabulary.relations(rng),
        place=vocabulary.places(rng),
        activity=vocabulary.activities(rng),
        food=vocabulary.foods(rng),
        thing=vocabulary.things(rng),
        event=vocabulary.events(rng),
        venue=vocabulary.venues(rng),
        venue_name=vocabulary.venue_names(rng),
        month=rng.choice(MONTHS),
        weekday=rng.choice(WEEKDAYS),
    )


USER_LINES = (
    "I went {activity} with {person} near {place} last {weekday}.",
    "{person} and I finally tried the {food} at {venue_name}'s {venue} in {place}.",
    "My {relation} {person} is coming to visit us in {month}.",
    "We are planning a trip to {place} for the {event} in {month}.",
    "The {event} at the {venue} was {feeling}, {person} could not stop laughing.",
    "I bought a new {thing} for {activity}, it was a bit {feeling} to set up.",
    "{person} works as a {job} in {place} now and says it is {feeling}.",
    "Yesterday I spent the whole afternoon {activity} and then made {food} for dinner.",
    "Our dog {pet} got lost at the {venue} in {place} but we found him by the {thing}.",
    "I have been {activity} every {weekday} since {month}, it feels {feeling}.",
    "{person} gave me a {thing} for my birthday, I use it all the time.",
    "The weather in {place} was {feeling} so we stayed in and ate {food}.",
    "I met {person} at the {event} and we talked about {activity} for hours.",
    "My {relation} thinks I should try {activity2} instead of {activity}.",
    "We missed the train to {place2} so we ended up at a {feeling} {venue}.",
    "Next {weekday} I am helping {person} move into a flat near the {venue}.",
)
PREFERENCE_LINES = (
    "I really love {food} but I can't stand {food2}.",
    "I prefer {activity} in the morning before work.",
    "I always bring my {thing} when I travel.",
    "I don't like crowded places like the {venue} in {place}.",
    "I enjoy {activity2} with {person} on weekends.",
    "I am allergic to {food2}, so please remember that.",
    "I'd like to visit {place2} someday with my {relation}.",
    "I hate {feeling} weather, it ruins my mood.",
)
ASSISTANT_LINES = (
    "That sounds {feeling}! How long have you been {activity}?",
    "How is {person} doing these days?",
    "Did you enjoy the {food} at {venue_name}'s?",
    "What was the best part of the {event}?",
    "{place} sounds lovely, have you been there before?",
    "Would you like some tips for {activity} with a new {thing}?",
    "It must have been {feeling} to see your {relation} again.",
    "Is {person} also into {activity}?",
    "When are you going back to {place}?",
    "That {thing} sounds useful for {activity}.",
    "I hope the trip to {place} in {month} goes well.",
    "What did {person} think of the {venue}?",
)
QUESTIONS = (
    "What did I do with {person} in {place}?",
    "When did I go {activity} with {person}?",
    "Where did {person} and I eat {food}?",
    "What does {person} do for a living?",
    "When is my {relation} {person} visiting?",
    "What did I buy for {activity}?",
    "How was the {event} at the {venue}?",
    "Tell me about my trip to {place}.",
    "What food do I love?",
    "Who did I meet at the {event}?",
    "What do I think about {food}?",
    "Which {venue} in {place} did we go to?",
)
PREFERENCE_SHARE = 0.2


def _fill(template: str, t: Topic, vocabulary: Vocabulary, rng: random.Random) -> str:
    fields = {
        "person": t.person if rng.random() < 0.7 else vocabulary.people(rng),
        "relation": t.relation,
        "place": t.place if rng.random() < 0.7 else vocabulary.places(rng),
        "place2": vocabulary.places(rng),
        "activity": t.activity,
        "activity2": vocabulary.activities(rng),
        "food": t.food if rng.random() < 0.7 else vocabulary.foods(rng),
        "food2": vocabulary.foods(rng),
        "thing": t.thing if rng.random() < 0.6 else vocabulary.things(rng),
        "event": t.event,
        "venue": t.venue,
        "venue_name": t.venue_name,
        "feeling": vocabulary.feelings(rng),
        "job": vocabulary.jobs(rng),
        "pet": vocabulary.pets(rng),
        "month": t.month,
        "weekday": t.weekday,
    }
    return template.format(**fields)


def conversation(vocabulary: Vocabulary, seed: int, k: int) -> tuple[Topic, list[MessageInput]]:
    """Conversation ``k``: 10-20 alternating turns, 1-2 sentences each, with chat times."""
    rng = random.Random(f"conversation:{seed}:{k}")
    t = topic(vocabulary, rng)
    start = START + k * CONVERSATION_SPACING
    messages: list[MessageInput] = []
    for turn in range(rng.randint(10, 20)):
        user = turn % 2 == 0
        if user:
            sentences = [_fill(rng.choice(USER_LINES), t, vocabulary, rng)]
            if rng.random() < PREFERENCE_SHARE:
                sentences.append(_fill(rng.choice(PREFERENCE_LINES), t, vocabulary, rng))
            elif rng.random() < 0.4:
                sentences.append(_fill(rng.choice(USER_LINES), t, vocabulary, rng))
        else:
            sentences = [_fill(rng.choice(ASSISTANT_LINES), t, vocabulary, rng)]
        moment = start + dt.timedelta(minutes=turn)
        messages.append(
            {
                "role": "user" if user else "assistant",
                "content": " ".join(sentences),
                "chat_time": moment.strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    return t, messages


def question(vocabulary: Vocabulary, seed: int, k: int, index: int) -> str:
    """A question about conversation ``k``, as its user might ask it later."""
    t, _ = conversation(vocabulary, seed, k)
    rng = random.Random(f"question:{seed}:{k}:{index}")
    return _fill(rng.choice(QUESTIONS), t, vocabulary, rng)
