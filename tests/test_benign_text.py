"""Hard negatives: what users and services really send, through the whole engine (default config).

Each value below is ordinary input that looks like code to a reader of syntax:
names with apostrophes, company names with `&`, search queries about
programming, rich-text editor HTML, GraphQL, and the payloads services send
each other. A WAF that blocks them gets switched to monitor mode; every one
must be allowed. (The measured side of this is `bench/prose_corpus.py`: ~140,000
sentences of real English and developer text.)
"""
import json
from urllib.parse import quote_plus

import pytest

from extauthz.config import parse_config
from extauthz.engine import Engine
from extauthz.request import Hop, Peer, Request

ENGINE = Engine(parse_config(""))


def decide(request: Request) -> tuple[str, list]:
    v = ENGINE.check(request)
    return v.decision.value, [(f.rule, f.severity.name, f.location) for f in v.findings]


def form(field: str, value: str) -> Request:
    return Request(method="POST", path="/account", body=(f"{field}=" + quote_plus(value)).encode(),
                   headers={"content-type": ("application/x-www-form-urlencoded",)})


def json_body(doc: dict, path: str = "/api/items", **kw) -> Request:
    return Request(method="POST", path=path, body=json.dumps(doc).encode(),
                   headers={"content-type": ("application/json",)}, **kw)


FORM_VALUES = [
    # people, places, companies
    "O'Brien", "D'Angelo", "Mary-Jane O'Neil", "N'Golo Kanté", "José Ñúñez", "李小龍", "Zoë d'Arc",
    "221B Baker St, Apt #2", "P.O. Box 123", "1/2 Elm St.", "Flat 3/12, 45 King's Rd", "c/o ACME Corp.",
    "+1 (555) 123-4567", "(555) 123-4567 ext. 89", "john.o'reilly+shop@example.co.uk",
    "AT&T", "Procter & Gamble", "Ben & Jerry's", 'Toys"R"Us', "Yahoo!", "Barnes & Noble", "H&M",
    "Tom & Jerry; Itchy & Scratchy", "Romeo & Juliet", "R&D department", "S&P 500",
    # shop searches and product text
    "c++ primer", "c# in depth", "node.js tutorial", "5' x 8' rug", '1/4" drill bit', '24" monitor', "100% cotton",
    "50% off!!!", "cat food 5kg", "ping pong table", "java coffee beans", "python snake plush", "ruby necklace",
    "$100 gift card", "#hashtag #blessed", "@username mention", "union jack flag", "select dropdown menu",
    "what does 1=1 mean", "2+2=4", "x<y", "a && b", "3 < 5 > 2", "if x > 5 then", "1 OR 2 tickets", "yes or no",
    "SELECT model year 2020", "Exec summary (draft)", "system of a down", "eval form for employees",
    "wait for delivery", "order by price", "group by brand", "insert coin", "update address", "delete my account",
    # chat and comments
    "Q&A: what's new?", "I'm 6'2\" tall", "she said \"hi\"; I said 'bye'", "it's 5 o'clock", "order #12345; ref: ABC-99",
    "Rock 'n' Roll", "Guns N' Roses", "don't; won't; can't", "<3 love it", ":) :( :P", "-- end of message --",
    "/* note */", "it's a 10/10!!!", "~~strikethrough~~", "**bold** and _italic_", "[link](https://example.com)",
    "`code`", '{"a":1}', "key=value; other=thing", "${HOME}", "%USERPROFILE%", "&nbsp;", "&amp; co",
    "windows\\system32 folder", "C:\\Users\\bob\\Desktop", "~/Documents", "a|b|c", "<br> tag", "how to use <div>",
    # text about files and code
    "/etc/hosts file", "../ means parent folder", "curl hair products", "nc state", "bash party", "Fish & Chips",
    "sh*t happens", "read GECOS entries from /etc/passwd programmatically",
    "File::Find for Raku", "more at <URL:https://www.x.org>",
    # brackets, colons and FIRST/SKIP words around SQL words (bench/tool_corpus.py families)
    "[x] done; [ ] select a size", "see [docs] or [faq]; (select one)", "[WIP] drop the old table format",
    "time: 10:30 from: home", "Re: union meeting at 5:30 (room A)", "select first 10 results, skip 2",
]


@pytest.mark.parametrize("value", FORM_VALUES)
def test_form_values_people_type(value):
    for field in ("q", "comment", "name"):
        assert decide(form(field, value))[0] == "allow", (field, decide(form(field, value))[1])


RICH_TEXT = [
    '<p>Hello <strong>world</strong>, this is <em>great</em>!</p>',
    '<p>See <a href="https://example.com/docs" target="_blank" rel="noopener noreferrer">the docs</a>.</p>',
    '<p><img src="https://cdn.example.com/img/photo.jpg" alt="Our team" width="600" height="400"></p>',
    '<ul><li>First item</li><li>Second item</li></ul><ol><li>One</li></ol>',
    '<blockquote><p>To be or not to be</p></blockquote>',
    '<pre><code class="language-python">print("hello")\nfor i in range(3):\n    print(i)</code></pre>',
    '<table><thead><tr><th>Name</th><th>Qty</th></tr></thead><tbody><tr><td>Shoes</td><td>2</td></tr></tbody></table>',
    '<p><span style="color: rgb(230, 0, 0); background-color: #fff;">Red text</span></p>',
    '<h2 id="intro">Introduction</h2><p>Text</p><hr><br>',
    '<figure class="image"><img src="/uploads/2024/cat.png" alt="cat"><figcaption>A cat</figcaption></figure>',
    '<div class="note" data-id="42" data-type="info"><p>Note</p></div>',
    '<video controls width="250"><source src="/media/flower.webm" type="video/webm">No video.</video>',
    '<p>Use <code>alert()</code> sparingly in your JavaScript.</p>',
    '<p>Call me at <a href="tel:+15551234567">555-1234</a> or <a href="mailto:bob@example.com">email</a></p>',
    '<p>5 &lt; 6 and 7 &gt; 3 &amp; so on&nbsp;</p>',
    '<p>The onload event fires when the page loads.</p>',
    '<p>In CSS, use <code>background: url(image.png)</code> for backgrounds.</p>',
    '<details><summary>More</summary><p>Hidden text</p></details>',
    '<p>Email template: Hello {{ first_name }}, your order #{{ order.id }} shipped.</p>',
    '<svg width="100" height="100"><circle cx="50" cy="50" r="40" stroke="green" fill="yellow" /></svg>',
    '<p>JavaScript: <code>document.getElementById("x").innerHTML = "hi";</code></p>',
]


@pytest.mark.parametrize("html", RICH_TEXT)
def test_rich_text_editor_html(html):
    assert decide(form("content", html))[0] == "allow", decide(form("content", html))[1]
    assert decide(json_body({"content": html}, "/api/posts"))[0] == "allow"


GRAPHQL = [
    'query { viewer { login repositories(first: 10, orderBy: {field: UPDATED_AT, direction: DESC}) { nodes { name } } } }',
    'mutation AddComment($input: AddCommentInput!) { addComment(input: $input) { commentEdge { node { body } } } }',
    'fragment userFields on User { id name email } query { users(filter: {role: ADMIN}) { ...userFields } }',
    'query Search($q: String!) { search(query: $q, type: REPOSITORY, first: 20) { edges { node { ... on Repository '
    '{ nameWithOwner } } } } }',
    'query IntrospectionQuery { __schema { queryType { name } types { name kind } } }',
    'query GetUser($id: ID!, $withPosts: Boolean!) { user(id: $id) { id name posts(first: 5) @include(if: $withPosts) '
    '{ edges { node { title } } } avatar @skip(if: $lite) } }',
    'mutation { updateProduct(id: 42, data: {price: 19.99, description: "100% cotton, 5\' x 8\'"}) { id } }',
]


@pytest.mark.parametrize("query", GRAPHQL)
def test_graphql_documents(query):
    assert decide(json_body({"query": query, "variables": {"q": "language:python stars:>1000"}}, "/graphql"))[0] == "allow"


EAST_WEST = [
    {"callback_url": "http://orders.default.svc.cluster.local:8080/hooks/payment", "order_id": "A-1001"},
    {"endpoint": "https://payments.prod.svc.cluster.local/v1/charge", "amount": 1999},
    {"filter": {"status": {"$in": ["paid", "shipped"]}, "total": {"$gt": 100}}},
    {"db_host": "10.0.3.7", "pool": 10},
    {"metadata": {"kubernetes.io/service-account.name": "orders", "app.kubernetes.io/version": "1.2.3"}},
    {"grpc": "dns:///payments.prod.svc.cluster.local:9090"},
    {"image": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="},
    {"jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"},
    {"template": "Hello {{name}}, your order {{order.id}} is {{status}}."},
    {"log": "2024-01-01T00:00:00Z ERROR connection refused (ECONNREFUSED) at 10.0.0.12:5432"},
]


@pytest.mark.parametrize("doc", EAST_WEST)
def test_calls_between_mesh_workloads(doc):
    caller = Peer("10.244.1.5", 40000, "spiffe://cluster.local/ns/prod/sa/checkout")
    request = json_body(doc, hop=Hop.SIDECAR_INBOUND, service="orders", source=caller)
    assert decide(request)[0] == "allow", decide(request)[1]


USER_AGENTS = [  # old browsers named their UI language in the product comment (sqlmap's --random-agent list)
    "Opera/9.02 (Windows; U; nl)", "Opera/9.20 (X11; Linux i686; U; tr)", "Opera/9.00 (Windows NT 5.1; U; id)",
    "Opera/9.80 (X11; Linux i686; U; tr-TR) Presto/2.2.15 Version/10.10",
]


@pytest.mark.parametrize("agent", USER_AGENTS)
def test_user_agents_of_real_browsers(agent):
    request = Request(method="GET", path="/products", query="id=42", headers={"user-agent": (agent,)})
    assert decide(request)[0] == "allow", decide(request)[1]
