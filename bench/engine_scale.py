"""Engine scale: add throughput, search latency and resident memory at 1k, 10k and 100k memories.

Everything goes through the real client path, as a user's code would: ``MemOSClient(embedded=
engine)`` (the httpx transport, request building, envelopes and response parsing) in front of an
:class:`EmbeddedEngine` on a file-backed SQLite database (WAL) in a temporary directory.

The text is synthetic conversational English, generated here from a seed: conversations of 10-20
turns (one ``add_message`` call each) about a person, a place, an activity, a food, a venue and an
event, drawn with a Zipf law from word lists of a few thousand words (real words for activities,
food, things and feelings; made-up but pronounceable names for people and places), with dates,
and a stated preference in about one user turn in five. Queries are questions about conversations
already stored ("When did I go pottery with Pixette?").

N counts memories (rows of the memories table), not messages: fast mode makes one memory per
turn, plus one per preference a user states, so there are about 1.1 memories per message. Two
layouts are measured:

- ``one_user``: one user holds all N memories (the worst case: every search ranks among all N);
- ``multi_user``: the same conversations dealt round-robin to 100 users (N/100 memories each),
  every search for one of them.

For each layout the database grows 1k -> 10k -> 100k: each step is one fresh ``build`` process
that adds conversations up to N (add throughput is messages/s inside ``add_message``), then one
fresh ``search`` process that opens the database and times ``search_memory`` (a warm-up, then the
timed queries). Fresh processes make the resident-memory figures (peak RSS from getrusage,
current VmRSS) belong to one size, not to the whole run.

Targets (the issue): search p95 <= 25 ms at 10k and <= 100 ms at 100k, fast add >= 2,000
messages/s, under 300 MB resident at 100k; judged on the one-user layout, the worst case.

Run it with ``make bench`` or ``.venv/bin/python bench/engine_scale.py`` (``--help`` for the knobs).
The figures go to ``bench/results/engine_scale.json``, the plot of latency against size to
``bench/results/engine_scale.svg`` (drawn here, no plotting library), a table to stdout.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import gc
import itertools
import json
import math
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import code_under_test, latency_ms, machine_info, versions

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.types import MessageInput

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = (1_000, 10_000, 100_000)
LAYOUTS = ("one_user", "multi_user")
# Judged on the one-user layout: the worst case.
TARGET_SEARCH_P95_MS = {10_000: 25.0, 100_000: 100.0}
TARGET_ADD_MESSAGES_PER_S = 2_000.0
TARGET_RSS_MB_AT = (100_000, 300.0)
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


def owner(layout: str, users: int, k: int) -> str:
    return "user-000" if layout == "one_user" else f"user-{k % users:03d}"


# ---- measurements --------------------------------------------------------------------------


def memory_mb() -> dict[str, float | None]:
    """Peak resident set (getrusage; kilobytes on Linux) and current VmRSS of this process."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / 1024 if sys.platform != "darwin" else peak / 1_048_576
    current: float | None = None
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
    except OSError:
        pass
    return {
        "peak_rss_mb": round(peak_mb, 1),
        "current_rss_mb": None if current is None else round(current, 1),
    }


def counts(db: Path) -> dict[str, int]:
    """Rows in the database, read with a separate connection (not part of any timing)."""
    if not db.exists():
        return {"memories": 0, "facts": 0, "preferences": 0, "messages": 0, "conversations": 0}
    connection = sqlite3.connect(db)
    try:
        kinds = dict(connection.execute("SELECT kind, count(*) FROM memories GROUP BY kind"))
        messages = connection.execute("SELECT count(*) FROM messages").fetchone()[0]
        conversations = connection.execute(
            "SELECT count(DISTINCT conversation_id) FROM messages"
        ).fetchone()[0]
    finally:
        connection.close()
    return {
        "memories": sum(kinds.values()),
        "facts": kinds.get("fact", 0),
        "preferences": kinds.get("preference", 0),
        "messages": messages,
        "conversations": conversations,
    }


def file_mb(db: Path) -> dict[str, float]:
    def size(path: Path) -> float:
        return round(path.stat().st_size / 1_048_576, 1) if path.exists() else 0.0

    return {"db_mb": size(db), "wal_mb": size(db.with_name(db.name + "-wal"))}


def build(db: Path, layout: str, target: int, users: int, seed: int) -> dict[str, Any]:
    """Add whole conversations until the database holds ``target`` memories."""
    before = counts(db)
    vocabulary = Vocabulary(seed)
    engine = EmbeddedEngine(str(db))
    client = MemOSClient(embedded=engine, max_retries=0)
    max_seq = "SELECT coalesce(max(seq), 0) FROM memories"  # == count: nothing is deleted
    memories = int(engine.store.query(max_seq)[0][0])
    k = before["conversations"]
    messages = 0
    add_ns: list[int] = []
    clock = time.perf_counter_ns
    started = time.perf_counter()
    next_report = started + 5
    try:
        while memories < target:
            _, turns = conversation(vocabulary, seed, k)
            user = owner(layout, users, k)
            begin = clock()
            client.add_message(turns, user_id=user, conversation_id=f"conv-{k:06d}")
            add_ns.append(clock() - begin)
            messages += len(turns)
            k += 1
            memories = int(engine.store.query(max_seq)[0][0])
            if time.perf_counter() >= next_report:
                rate = messages / (sum(add_ns) / 1e9)
                print(f"  {layout} -> {target:,}: {memories:,} memories, {rate:,.0f} messages/s")
                next_report = time.perf_counter() + 5
    finally:
        client.close()
        engine.close()
    after = counts(db)
    seconds = sum(add_ns) / 1e9
    return {
        "from_memories": before["memories"],
        "added_messages": after["messages"] - before["messages"],
        "added_memories": after["memories"] - before["memories"],
        "add_calls": len(add_ns),
        "add_seconds": round(seconds, 3),
        "wall_seconds": round(time.perf_counter() - started, 3),
        "messages_per_s": round(messages / seconds, 1) if seconds else None,
        "memories_per_s": round((after["memories"] - before["memories"]) / seconds, 1)
        if seconds
        else None,
        "add_call": latency_ms(add_ns) if add_ns else None,
        "rows": after,
        "memory": memory_mb(),
    }


def search(
    db: Path, layout: str, users: int, seed: int, queries: int, warmup: int
) -> dict[str, Any]:
    """Open the database and time ``search_memory`` on questions about stored conversations."""
    rows = counts(db)
    vocabulary = Vocabulary(seed)
    conversations = rows["conversations"]
    rng = random.Random(f"queries:{seed}:{layout}:{rows['memories']}")
    picks = [rng.randrange(conversations) for _ in range(warmup + queries)]
    asks = [
        (owner(layout, users, k), question(vocabulary, seed, k, i)) for i, k in enumerate(picks)
    ]
    engine = EmbeddedEngine(str(db))
    client = MemOSClient(embedded=engine, max_retries=0)
    clock = time.perf_counter_ns
    samples: list[int] = []
    facts: list[int] = []
    preferences: list[int] = []
    try:
        first = clock()
        client.search_memory(asks[0][1], user_id=asks[0][0])
        first_ms = (clock() - first) / 1e6
        for user, query in asks[1:warmup]:
            client.search_memory(query, user_id=user)
        gc.collect()
        for user, query in asks[warmup:]:
            begin = clock()
            found = client.search_memory(query, user_id=user)
            samples.append(clock() - begin)
            facts.append(len(found.memory_detail_list))
            preferences.append(len(found.preference_detail_list))
    finally:
        client.close()
        engine.close()
    return {
        "queries": queries,
        "warmup": warmup,
        "first_search_ms": round(first_ms, 3),
        "latency": latency_ms(samples),
        "mean_facts_returned": round(statistics.fmean(facts), 2),
        "share_with_a_fact": round(sum(1 for f in facts if f) / len(facts), 3),
        "mean_preferences_returned": round(statistics.fmean(preferences), 2),
        "examples": [query for _, query in asks[warmup : warmup + 5]],
        "memory": memory_mb(),
    }


# ---- the driver ------------------------------------------------------------------------------


def _worker(args: argparse.Namespace) -> int:
    if args.worker == "build":
        result = build(args.db, args.layout, args.target, args.users, args.seed)
    else:
        result = search(args.db, args.layout, args.users, args.seed, args.queries, args.warmup)
    args.worker_out.write_text(json.dumps(result))
    return 0


def _run_worker(kind: str, args: argparse.Namespace, db: Path, layout: str, n: int) -> Any:
    out = db.with_name(f"{layout}-{n}-{kind}.json")
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        kind,
        "--db",
        str(db),
        "--layout",
        layout,
        "--target",
        str(n),
        "--users",
        str(args.users),
        "--seed",
        str(args.seed),
        "--queries",
        str(args.queries),
        "--warmup",
        str(args.warmup),
        "--worker-out",
        str(out),
    ]
    subprocess.run(command, check=True)  # noqa: S603 - this very script, fixed arguments
    return json.loads(out.read_text())


def measure_layout(args: argparse.Namespace, workdir: Path, layout: str) -> list[dict[str, Any]]:
    db = workdir / f"{layout}.db"
    rows: list[dict[str, Any]] = []
    total_messages = 0
    total_seconds = 0.0
    for n in args.sizes:
        started = time.perf_counter()
        print(f"{layout}: building to {n:,} memories")
        built = _run_worker("build", args, db, layout, n)
        total_messages += built["added_messages"]
        total_seconds += built["add_seconds"]
        print(f"{layout}: {args.queries} searches at {built['rows']['memories']:,} memories")
        searched = _run_worker("search", args, db, layout, n)
        row = {
            "layout": layout,
            "n": n,
            "rows": built["rows"],
            "users": 1 if layout == "one_user" else args.users,
            "memories_per_user": built["rows"]["memories"]
            // (1 if layout == "one_user" else args.users),
            "files": file_mb(db),
            "add": {k: v for k, v in built.items() if k not in ("rows", "memory")},
            "add_cumulative": {
                "messages": total_messages,
                "seconds": round(total_seconds, 3),
                "messages_per_s": round(total_messages / total_seconds, 1),
            },
            "search": {k: v for k, v in searched.items() if k != "memory"},
            "memory": {"build_process": built["memory"], "search_process": searched["memory"]},
        }
        latency = row["search"]["latency"]
        print(
            f"{layout} {n:>7,}: add {built['messages_per_s']:,.0f} msg/s, search p50 "
            f"{latency['p50_ms']:.1f} ms p95 {latency['p95_ms']:.1f} ms, peak RSS "
            f"{built['memory']['peak_rss_mb']:.0f}/{searched['memory']['peak_rss_mb']:.0f} MB "
            f"(build/search), db {row['files']['db_mb']:.0f} MB "
            f"[{time.perf_counter() - started:.0f} s]"
        )
        rows.append(row)
    return rows


def judge(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets, on the one-user layout (the worst case)."""
    worst = {row["n"]: row for row in rows if row["layout"] == "one_user"}
    verdicts: list[dict[str, Any]] = []
    for n, limit in TARGET_SEARCH_P95_MS.items():
        if n in worst:
            value = worst[n]["search"]["latency"]["p95_ms"]
            verdicts.append(
                {
                    "target": f"search p95 <= {limit:g} ms at {n:,} memories",
                    "value": value,
                    "unit": "ms",
                    "met": value <= limit,
                }
            )
    if worst:
        largest = max(worst)
        value = worst[largest]["add_cumulative"]["messages_per_s"]
        verdicts.append(
            {
                "target": f"fast add >= {TARGET_ADD_MESSAGES_PER_S:,.0f} messages/s "
                f"(whole build to {largest:,})",
                "value": value,
                "unit": "messages/s",
                "met": value >= TARGET_ADD_MESSAGES_PER_S,
            }
        )
    n, limit = TARGET_RSS_MB_AT
    if n in worst:
        memory = worst[n]["memory"]
        value = max(memory["build_process"]["peak_rss_mb"], memory["search_process"]["peak_rss_mb"])
        verdicts.append(
            {
                "target": f"peak resident < {limit:g} MB at {n:,} memories (build or search "
                "process)",
                "value": value,
                "unit": "MB",
                "met": value < limit,
            }
        )
    return verdicts


# ---- the plot: an SVG drawn by hand, so that no plotting library is needed -------------------

_COLOURS = {"one_user": "#1f5fa8", "multi_user": "#d9730d"}
_LABELS = {"one_user": "one user holds all N", "multi_user": "100 users, N/100 each"}


def plot_svg(rows: list[dict[str, Any]], users: int) -> str:
    width, height = 800, 480
    left, right, top, bottom = 78, 250, 40, 62
    sizes = sorted({row["n"] for row in rows})
    values = [row["search"]["latency"][key] for row in rows for key in ("p50_ms", "p95_ms")]
    y_low = min([1.0, *values]) / 1.3
    y_high = max([*TARGET_SEARCH_P95_MS.values(), *values]) * 1.6
    x_low, x_high = min(sizes) / 1.8, max(sizes) * 1.8

    def x(value: float) -> float:
        span = _log(x_high) - _log(x_low)
        return left + (width - left - right) * (_log(value) - _log(x_low)) / span

    def y(value: float) -> float:
        span = _log(y_high) - _log(y_low)
        return height - bottom - (height - top - bottom) * (_log(value) - _log(y_low)) / span

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="13">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="24" font-size="15" font-weight="bold">Embedded engine: '
        "search_memory latency against stored memories</text>",
    ]
    ticks = [t for t in (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if y_low <= t <= y_high]
    for tick in ticks:
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            'stroke="#e4e4e4"/>'
        )
        out.append(f'<text x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
    for size in sizes:
        out.append(
            f'<line x1="{x(size):.1f}" x2="{x(size):.1f}" y1="{top}" y2="{height - bottom}" '
            'stroke="#e4e4e4"/>'
        )
        out.append(
            f'<text x="{x(size):.1f}" y="{height - bottom + 18}" text-anchor="middle">'
            f"{size // 1000}k</text>"
        )
    out += [
        f'<rect x="{left}" y="{top}" width="{width - left - right}" '
        f'height="{height - top - bottom}" fill="none" stroke="#333"/>',
        f'<text x="{(left + width - right) / 2:.0f}" y="{height - 18}" text-anchor="middle">'
        "memories N (log scale)</text>",
        f'<text transform="translate(22 {(top + height - bottom) / 2:.0f}) rotate(-90)" '
        'text-anchor="middle">search latency, ms (log scale)</text>',
    ]
    for n, limit in TARGET_SEARCH_P95_MS.items():
        if x_low <= n <= x_high:
            out.append(
                f'<line x1="{x(n / 1.5):.1f}" x2="{x(n * 1.5):.1f}" y1="{y(limit):.1f}" '
                f'y2="{y(limit):.1f}" stroke="#c0392b" stroke-width="3"/>'
            )
            out.append(
                f'<text x="{x(n / 1.5) - 6:.1f}" y="{y(limit) + 4:.1f}" text-anchor="end" '
                f'fill="#c0392b">p95 target {limit:g} ms</text>'
            )
    legend_y = top + 10
    for layout in LAYOUTS:
        series = sorted((r for r in rows if r["layout"] == layout), key=lambda r: r["n"])
        if not series:
            continue
        colour = _COLOURS[layout]
        for key, dash in (("p95_ms", ""), ("p50_ms", ' stroke-dasharray="6 4"')):
            points = " ".join(
                f"{x(r['n']):.1f},{y(r['search']['latency'][key]):.1f}" for r in series
            )
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" '
                f'stroke-width="2"{dash}/>'
            )
            for r in series:
                out.append(
                    f'<circle cx="{x(r["n"]):.1f}" cy="{y(r["search"]["latency"][key]):.1f}" '
                    f'r="3.5" fill="{colour}"/>'
                )
            label = _LABELS[layout].replace("100", str(users)) + (
                ", p95" if key == "p95_ms" else ", p50"
            )
            lx = width - right + 14
            out.append(
                f'<line x1="{lx}" x2="{lx + 30}" y1="{legend_y}" y2="{legend_y}" '
                f'stroke="{colour}" stroke-width="2"{dash}/>'
            )
            out.append(f'<text x="{lx + 36}" y="{legend_y + 4}">{label}</text>')
            legend_y += 22
    lx = width - right + 14
    out.append(
        f'<line x1="{lx}" x2="{lx + 30}" y1="{legend_y}" y2="{legend_y}" stroke="#c0392b" '
        'stroke-width="3"/>'
    )
    out.append(f'<text x="{lx + 36}" y="{legend_y + 4}">target (p95)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _log(value: float) -> float:
    return math.log10(value)


# ---- report ------------------------------------------------------------------------------------


def print_table(rows: list[dict[str, Any]], verdicts: list[dict[str, Any]]) -> None:
    print()
    print(
        f"{'layout':<11}{'N':>8}{'memories':>10}{'messages':>10}{'add msg/s':>11}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}{'RSS MB':>8}{'DB MB':>8}"
    )
    for row in rows:
        latency = row["search"]["latency"]
        rss = max(m["peak_rss_mb"] for m in row["memory"].values())
        print(
            f"{row['layout']:<11}{row['n']:>8,}{row['rows']['memories']:>10,}"
            f"{row['rows']['messages']:>10,}{row['add_cumulative']['messages_per_s']:>11,.0f}"
            f"{latency['p50_ms']:>9.1f}{latency['p95_ms']:>9.1f}{latency['mean_ms']:>9.1f}"
            f"{rss:>8.0f}{row['files']['db_mb']:>8.0f}"
        )
    print()
    for verdict in verdicts:
        print(
            f"{'met' if verdict['met'] else 'NOT met':<8} {verdict['target']}: "
            f"{verdict['value']:,} {verdict['unit']}"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(sorted(int(v) for v in text.split(","))),
        default=SIZES,
        help="memory counts, comma-separated (default 1000,10000,100000)",
    )
    parser.add_argument(
        "--layouts", default=",".join(LAYOUTS), help="one_user, multi_user or both (default)"
    )
    parser.add_argument("--users", type=int, default=100, help="users of the multi_user layout")
    parser.add_argument("--queries", type=int, default=300, help="timed searches per size")
    parser.add_argument("--warmup", type=int, default=30, help="untimed searches first")
    parser.add_argument("--seed", type=int, default=20260801, help="seed of text and queries")
    parser.add_argument("--out", type=Path, default=RESULTS / "engine_scale.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "engine_scale.svg")
    parser.add_argument("--keep", type=Path, help="build the databases here and keep them")
    parser.add_argument("--worker", choices=("build", "search"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--layout", help=argparse.SUPPRESS)
    parser.add_argument("--target", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    layouts = tuple(v for v in args.layouts.split(",") if v)
    if not layouts or set(layouts) - set(LAYOUTS):
        parser.error(f"--layouts takes {' and/or '.join(LAYOUTS)}")
    args.layouts = layouts
    if not (1 <= args.queries <= 100_000 and 1 <= args.warmup <= 10_000 and args.users >= 1):
        parser.error("need 1 <= queries <= 1e5, 1 <= warmup <= 1e4 and users >= 1")
    if min(args.sizes) < 10:
        parser.error("sizes must be at least 10")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return _worker(args)
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="engine-scale-") as scratch:
        workdir = args.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        for layout in args.layouts:
            for stale in workdir.glob(f"{layout}.db*"):
                stale.unlink()
            rows += measure_layout(args, workdir, layout)
    elapsed = time.perf_counter() - started
    verdicts = judge(rows)
    report: dict[str, Any] = {
        "benchmark": "engine_scale",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "code": code_under_test(),
        "machine": machine_info(),
        "versions": versions("httpx", "pydantic", "langchain-memos"),
        "config": {
            "sizes": list(args.sizes),
            "layouts": {
                "one_user": "one user holds all N memories (worst case; the targets use it)",
                "multi_user": f"conversations dealt round-robin to {args.users} users",
            },
            "n": "memories (rows of the memories table: facts + preferences), not messages",
            "users": args.users,
            "queries": args.queries,
            "warmup": args.warmup,
            "seed": args.seed,
            "path": "MemOSClient(embedded=EmbeddedEngine(file), max_retries=0): httpx transport, "
            "envelopes and parsing included",
            "engine": "fast mode, lexical search (no chat model, no embeddings)",
            "database": "file in a temporary directory, WAL, synchronous=NORMAL (the engine's)",
            "add": "client.add_message, one conversation (10-20 turns) per call, with chat_time; "
            "messages/s over the time spent inside add_message",
            "search": "client.search_memory(question, user_id) with the service defaults; "
            "questions about stored conversations; a fresh process opens the database",
            "processes": "one fresh build process and one fresh search process per size",
            "text": "synthetic conversational English, Zipf-drawn from word lists "
            f"({Vocabulary(args.seed).size:,} words)",
            "wall_seconds": round(elapsed, 1),
        },
        "results": rows,
        "targets": verdicts,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    args.plot.parent.mkdir(parents=True, exist_ok=True)
    args.plot.write_text(plot_svg(rows, args.users))
    print_table(rows, verdicts)
    print(f"wrote {args.out} and {args.plot} in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
