"""The detection time budget (limits.detect_budget_ms): bounded, recorded, not a hiding place.

Engine time is this thread's CPU time, as in tests/test_pathological_engine.py.
"""
from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from extauthz.budget import BudgetSpent, CpuBudget, bounded, check_spent
from extauthz.config import Config
from extauthz.decode import DecodeLimits, Input
from extauthz.engine import Engine, detect_budget, reads_as_text
from extauthz.request import Hop, Peer, Request

from timing import within

# 8 KiB of a unit that every SQL reading of the value finds costly (quotes, operators, backticks)
COSTLY_UNIT = "'%'+'`id`'"
COSTLY = quote((COSTLY_UNIT * 1000)[:8192], safe="")


def req(query: str, n: int = 1) -> Request:
    return Request(method="GET", path="/s", query=query, authority="shop.example.com", hop=Hop.EDGE,
                   service="shop", source=Peer(f"10.9.0.{n}", 4444))


def engine(budget_ms: float, per_kib_ms: float = 0.0) -> Engine:
    """An engine whose detector budget is `budget_ms` (with no long-text allowance unless asked)."""
    return Engine(Config(limits=DecodeLimits(time_budget_ms=60_000, detect_budget_ms=budget_ms,
                                             detect_budget_per_kib_ms=per_kib_ms)))


def cpu_of(eng: Engine, request: Request):
    t0 = time.thread_time()
    verdict = eng.check(request)
    return time.thread_time() - t0, verdict


def rules(verdict) -> set[str]:
    return {f.rule for f in verdict.findings}


def test_lazy_budget_starts_counting_at_the_first_wall_deadline():
    wall, cpu = [0.0], [5.0]
    b = CpuBudget(0.010, clock=lambda: wall[0], cpu_clock=lambda: cpu[0])
    wall[0], cpu[0] = 0.011, 5.009
    assert not b.spent()  # the CPU budget starts now
    wall[0], cpu[0] = 0.030, 5.018
    assert not b.spent()
    wall[0], cpu[0] = 0.032, 5.020
    assert b.spent()


def test_check_spent_raises_only_inside_a_spent_bounded_block():
    check_spent()  # outside: nothing to watch
    wall, cpu = [0.0], [0.0]
    b = CpuBudget(0.001, clock=lambda: wall[0], cpu_clock=lambda: cpu[0])
    with bounded(b):
        check_spent()
        wall[0] = cpu[0] = 0.002
        check_spent()  # the CPU budget starts here
        wall[0] = cpu[0] = 0.004
        with pytest.raises(BudgetSpent):
            check_spent()
    check_spent()  # the block is over


def test_costly_input_is_decided_within_budget_with_the_limit_recorded():
    eng = engine(5.0)
    eng.check(req("q=" + COSTLY, 200))  # warm caches
    spent, verdict = min((cpu_of(eng, req("q=" + COSTLY, n)) for n in range(1, 4)), key=lambda sv: sv[0])
    assert verdict.action.value != "failure"
    assert "limit.detect-time" in rules(verdict)
    ok, why = within(spent, 0.020)
    assert ok, why
    detail = next(f.detail for f in verdict.findings if f.rule == "limit.detect-time")
    # the security log says which knob a service that receives long text turns
    assert "service policy's detect_budget_ms" in detail and "long text" in detail


def test_without_a_tight_budget_the_same_input_is_read_whole():
    verdict = engine(60_000).check(req("q=" + COSTLY))
    assert "limit.detect-time" not in rules(verdict)
    assert {f.cls for f in verdict.findings} & {"sqli", "rce"}


def test_padding_one_parameter_does_not_hide_an_attack_in_another():
    attack = quote("1' union select password from users--", safe="")
    for query in (f"pad={COSTLY}&id={attack}", f"id={attack}&pad={COSTLY}"):
        verdict = engine(1.0).check(req(query))
        assert "limit.detect-time" in rules(verdict)
        assert "sqli.union" in rules(verdict), query[:40]
        assert verdict.action.value == "deny"


def test_ordinary_requests_stay_far_from_the_default_budget():
    eng = Engine(Config())
    for query in ("q=red+shoes&page=2&sort=price&lang=en&ref=home", "name=O%27Brien&note=it%27s+a+%22test%22",
                  "text=" + quote("Select the union of both sets, or -- if you must -- drop it. " * 20)):
        assert "limit.detect-time" not in rules(eng.check(req(query)))


def test_a_cut_short_analysis_is_not_remembered():
    """Detectors keep results of short values for reuse; one cut by the budget must not be kept."""
    from extauthz.decode import Input
    from extauthz.detect import REGISTRY

    sqli = REGISTRY["sqli"]()
    inp = Input("query", "q", "x' or 1=1 union select " + "'a'||'b'," * 20 + "password from users--")
    now = [0.0]
    spent = CpuBudget(0.001, clock=lambda: now[0], cpu_clock=lambda: now[0])
    now[0] = 1.0  # past its wall deadline: the CPU budget starts counting
    spent.spent()
    now[0] = 2.0  # and is spent
    with bounded(spent), pytest.raises(BudgetSpent):
        list(sqli.scan_input(inp))
    assert "sqli.union" in {f.rule for f in sqli.scan_input(inp)}


def test_costly_text_in_front_of_an_attack_in_the_same_value_does_not_hide_it():
    """sqli reads the padding slowly and uses up the budget; xss never starts on the value:
    readings the prefilter asked for were left undone, so the request is blocked."""
    value = quote(COSTLY_UNIT * 400 + "<script>alert(document.cookie)</script>", safe="")
    verdict = engine(1.0).check(req("q=" + value))
    limit = [f for f in verdict.findings if f.rule == "limit.detect-time"]
    assert limit and limit[0].severity.name == "HIGH", verdict.findings
    assert verdict.action.value == "deny"


def test_a_long_text_cut_while_being_read_is_blocked_until_its_budget_fits():
    """A long value is read in windows: when the budget runs out in an early one, the windows
    after it were never read, and an attack padded behind harmless text would sit there."""
    essay = ("It's the user's input that isn't escaped, so the query's WHERE clause changes; "
             "that's why we don't concatenate strings. ") * 60
    verdict = engine(0.2).check(req("text=" + quote(essay, safe="")))
    limit = [f for f in verdict.findings if f.rule == "limit.detect-time"]
    assert [f.severity.name for f in limit] == ["HIGH"], verdict.findings  # 7 KiB read in 0.2 ms: cut
    assert verdict.action.value == "deny", verdict.findings
    verdict = engine(1000).check(req("text=" + quote(essay, safe="")))
    assert verdict.action.value == "allow", verdict.findings  # a service with a budget it fits in
    verdict = engine(0.2, per_kib_ms=50.0).check(req("text=" + quote(writing(7200), safe=""), 2))
    assert verdict.action.value == "allow", verdict.findings  # or the long-text allowance of varied text


def test_an_attack_padded_behind_long_text_is_read():
    """8 KiB of filler in front of a payload hid it from the readers' own limits (the SQL
    tokenizer reads 8 KiB and 1024 tokens): windows bring every part of the value in reach."""
    filler = "The delivery was on time and the parcel was fine, thanks to the team. " * 140
    for payload in ("' union select username, password from users--", "; cat /etc/passwd #"):
        verdict = engine(1000).check(req("text=" + quote(filler + payload, safe="")))
        assert verdict.action.value == "deny", (payload, verdict.findings)
        assert "limit.detect-time" not in {f.rule for f in verdict.findings}


def test_a_full_collection_does_not_use_up_the_budget():
    """Garbage collection of older generations is the process's cost, not the request's."""
    import gc

    from extauthz.budget import collection_time

    junk = [[i] for i in range(300_000)]  # enough objects for a full collection to take a while
    before = collection_time()
    wall = [0.0]
    b = CpuBudget(0.001, clock=lambda: wall[0], cpu_clock=time.thread_time)
    wall[0] = 1.0
    assert not b.spent()  # the CPU budget starts now
    t0 = time.thread_time()
    gc.collect()
    spent_in_gc = time.thread_time() - t0
    assert spent_in_gc > 0.003, "the collection should outlast the 1 ms budget"
    assert collection_time() - before >= 0.8 * spent_in_gc
    wall[0] = 2.0
    assert not b.spent()  # all that CPU went to the collection
    del junk


def test_a_service_may_give_its_requests_a_larger_detector_budget():
    """policy.detect_budget_ms: a wiki that receives long documents reads them whole; other services keep
    limits.detect_budget_ms."""
    from extauthz.config import parse_config
    eng = Engine(parse_config("limits: {time_budget_ms: 60000, detect_budget_ms: 1.0}\n"
                              "services: {wiki: {detect_budget_ms: 60000}}\n"))
    costly = "q=" + COSTLY
    shop = eng.check(req(costly))
    wiki = eng.check(Request(method="GET", path="/s", query=costly, authority="wiki", hop=Hop.EDGE,
                             service="wiki", source=Peer("10.9.0.7", 4444)))
    assert "limit.detect-time" in rules(shop)
    assert "limit.detect-time" not in rules(wiki) and {f.cls for f in wiki.findings} & {"sqli", "rce"}


# ----------------------------------------------------------------- the long-text allowance

ESSAY = ("It's the user's input that isn't escaped, so the query's WHERE clause changes; "
         "that's why we don't concatenate strings. ") * 60


def writing(size: int, seed: int = 7) -> str:
    """Varied text of about `size` characters (one sentence repeated is a repetition, which
    earns no allowance): sentences of words drawn from a technical vocabulary."""
    import random
    rnd = random.Random(seed)
    words = ("the", "user's", "input", "isn't", "escaped", "so", "query", "changes", "server", "request",
             "we", "don't", "concatenate", "strings", "parameter", "database", "review", "release", "notes",
             "fixed", "a", "crash", "when", "file", "was", "empty", "(in", "parser)", "version", "support",
             "for", "Python", "added", "option", "default", "value", "config", "install", "with", "pip")
    out: list[str] = []
    n = 0
    while n < size:
        sentence = " ".join(rnd.choice(words) for _ in range(rnd.randint(6, 16))).capitalize() + rnd.choice(".;.,.")
        out.append(sentence)
        n += len(sentence) + 1
    return " ".join(out)


def test_text_reads_as_text_and_syntax_does_not():
    import unicodedata
    assert reads_as_text(writing(7000))
    assert reads_as_text("\n".join(f"Line {i} of a changelog: fixed a crash (in the parser) when file {i * 7} "
                                    f"was empty." for i in range(60)))
    # a repetition is no writing: one sentence, or a unit NFKC spells as words (`ﷺ` is four)
    assert not reads_as_text(ESSAY)
    assert not reads_as_text(unicodedata.normalize("NFKC", "\ufdfa<" * 1000))
    for unit in ("'%'+'`id`'", "((((", "${jndi:", "*)(", "&#x3c;", "`", ";", "<a ", "QUFB", "/etc/passwd",
                 "() { :; };", "<!ENTITY ", "\n", "\r\n", " \t"):
        assert not reads_as_text((unit * 2000)[:8192]), unit
    html = '<div class="note"><p>Install it with <code>pip install x</code>, then <a href="/docs">read</a>.</p></div>\n'
    rich = "".join(html.replace("x", f"x{i}").replace("read", w) for i, w in enumerate(writing(6000).split()[:60]))
    assert reads_as_text(rich)  # rich text: the words between its tags
    for markup in ("<b>x</b>", "<a <a ", '<img src=x onerror="alert(1)">', "<p>a;b|c$(d)</p> "):
        assert not reads_as_text((markup * 2000)[:8192]), markup


def test_the_allowance_grows_with_long_text_and_stops_at_its_cap():
    limits = DecodeLimits()  # 10 ms, 6 ms per KiB beyond the first, at most 120 ms
    short = [Input("query", "q", "hello world")]
    assert detect_budget(10.0, short, limits) == 10.0
    text = Input("json", "$.body", writing(7000)[:6144])
    assert detect_budget(10.0, [text] + short, limits) == pytest.approx(10.0 + 6.0 * 5)
    assert detect_budget(10.0, [Input("json", "$.body", writing(30000))], limits) == 120.0
    # under the wall bound with room for a busy process, itself under Envoy's 250 ms timeout
    assert limits.detect_budget_max_ms <= limits.detect_wall_max_ms * 0.6
    escaped = Input("query", "q", text.value, ("percent", "js"))
    assert detect_budget(10.0, [escaped], limits) == 10.0  # text is not sent JavaScript-escaped
    assert detect_budget(200.0, [text], limits) == 200.0  # a service's larger budget stays
    costly = Input("query", "q", (COSTLY_UNIT * 1000)[:8192])
    assert detect_budget(10.0, [costly], limits) == 10.0  # syntax-dense: hostile or code, not text
    assert detect_budget(10.0, [text], DecodeLimits(detect_budget_per_kib_ms=0)) == 10.0


def test_a_long_comment_is_read_whole_with_the_default_budget():
    """With the default limits a 12 KiB text fits: the allowance pays for what text costs
    the detectors, where the fixed 10 ms cut it and denied it (fail-closed)."""
    eng = Engine(Config(limits=DecodeLimits(time_budget_ms=60_000)))
    text = writing(12000)
    verdict = eng.check(req("text=" + quote(text, safe="")))
    assert "limit.detect-time" not in rules(verdict), verdict.findings
    assert verdict.action.value == "allow", verdict.findings
    padded = eng.check(req("text=" + quote(text + "'; cat /etc/passwd #", safe=""), 2))
    assert padded.action.value == "deny", padded.findings


def test_a_high_finding_withdraws_the_allowance():
    """Sorted shortest first, the attack is found before the text is read: the budget then
    falls back to its base (here almost nothing), and the text is left unread."""
    from extauthz.detect import DetectorSet
    ds = DetectorSet.from_toggles({})
    inputs = [Input("query", "id", "1' union select password from users--"), Input("json", "$.body", writing(7000))]
    kept = ds.scan(Request(), inputs, budget_ms=1000.0)
    assert "limit.detect-time" not in {f.rule for f in kept}
    cut = ds.scan(Request(), inputs, budget_ms=1000.0, base_ms=0.001)
    assert {"sqli.union", "limit.detect-time"} <= {f.rule for f in cut}, cut
    clean = ds.scan(Request(), inputs[1:], budget_ms=1000.0, base_ms=0.001)
    assert "limit.detect-time" not in {f.rule for f in clean}  # text that reads clean keeps it all


def test_shorten_moves_both_deadlines():
    wall, cpu = [0.0], [0.0]
    b = CpuBudget(0.010, clock=lambda: wall[0], cpu_clock=lambda: cpu[0])
    b.shorten(0.002)
    wall[0] = cpu[0] = 0.003
    assert not b.spent()  # the CPU budget starts now: 2 ms of it
    wall[0] = cpu[0] = 0.0055
    assert b.spent()
    b2 = CpuBudget(0.010, clock=lambda: wall[0], cpu_clock=lambda: cpu[0])
    b2.shorten(0.050)  # never longer
    wall[0] = cpu[0] = 0.0055 + 0.0105
    assert not b2.spent()
    wall[0] = cpu[0] = 0.0055 + 0.0105 + 0.0105
    assert b2.spent()


def test_a_generated_password_does_not_withdraw_the_allowance():
    """A generated password's symbols can read as code (HIGH, then relaxed to MEDIUM by
    extauthz.detect.secrets): that is no attack found, and the long text beside it keeps
    its allowance."""
    eng = Engine(Config(limits=DecodeLimits(time_budget_ms=60_000)))
    body = "username=alice&password=" + quote("R`1e8|rC;P]mE]6W", safe="") + "&bio=" + quote(writing(12000), safe="")
    verdict = eng.check(Request(method="POST", path="/signup", body=body.encode(), authority="shop.example.com",
                                headers={"content-type": ("application/x-www-form-urlencoded",)}, hop=Hop.EDGE,
                                service="shop", source=Peer("10.9.0.8", 4444)))
    assert "limit.detect-time" not in rules(verdict), verdict.findings
    assert verdict.action.value == "allow", verdict.findings


def test_an_eager_budget_is_cpu_time_from_its_start_however_long_the_thread_waits():
    """The long-text allowance counts CPU time at once: a thread kept waiting (wall time
    passing, CPU time not) neither loses its budget nor gets more."""
    wall, cpu = [100.0], [5.0]
    b = CpuBudget(0.040, clock=lambda: wall[0], cpu_clock=lambda: cpu[0], eager=True)
    wall[0], cpu[0] = 100.5, 5.030  # half a second waiting, 30 ms of work
    assert not b.spent()
    wall[0], cpu[0] = 100.6, 5.041
    assert b.spent()
    lazy = CpuBudget(0.020, clock=lambda: wall[0], cpu_clock=lambda: cpu[0])  # the default's half
    wall[0], cpu[0] = 101.0, 5.045  # the wall deadline passed while waiting: 20 ms of CPU from now
    assert not lazy.spent()
    cpu[0], wall[0] = 5.066, 101.002
    assert lazy.spent()  # 25 ms of CPU in all: a waiting thread gets between half and all of 40
    b2 = CpuBudget(0.040, clock=lambda: wall[0], cpu_clock=lambda: cpu[0], eager=True)
    b2.shorten(0.010)  # a high finding: back to the base, counted from the same start
    cpu[0] = 5.075
    wall[0] += 0.002
    assert not b2.spent()
    cpu[0] = 5.077
    wall[0] += 0.002
    assert b2.spent()


def test_a_long_texts_budget_also_ends_at_its_wall_time():
    """Four long checks in one process share the interpreter: each thread's CPU time grows at a
    quarter of the wall clock's pace, and 80 ms of CPU would take 320 ms, past Envoy's 250 ms
    timeout (a 503 for the client, and CPU spent on a request nobody waits for). A budget
    raised by the long-text allowance also ends at limits.detect_wall_max_ms of wall time: a
    clean limit.detect-time."""
    wall, cpu = [100.0], [5.0]
    b = CpuBudget(0.080, clock=lambda: wall[0], cpu_clock=lambda: cpu[0], eager=True, wall=0.200)
    wall[0], cpu[0] = 100.190, 5.0475  # a quarter of the pace
    assert not b.spent()
    wall[0], cpu[0] = 100.201, 5.050
    assert b.spent()
    assert DecodeLimits().detect_wall_max_ms == 200.0  # below the shipped configs' 250 ms timeout
