#!/usr/bin/env python3
"""Writes tests/differential/cases.nix-list, the table read by tests/differential.rs.

Run from the repository root:  python3 tests/differential/generate.py

Format of the table: records separated by a line that is exactly `---`. Each
record is one Nix expression (it may span several lines and contain Nix
comments). A record whose lines are all blank or `#` comments is a heading and
is not a case. The table is committed; this script only regenerates it.
"""

import os

CASES = []
SEPARATOR = "---"


def section(title):
    CASES.append("# " + title)


def case(*exprs):
    for e in exprs:
        e = e.strip("\n")
        assert e.strip(), "empty case"
        assert SEPARATOR not in [line.strip() for line in e.split("\n")], e
        CASES.append(e)


# ---------------------------------------------------------------------------
section("literals")
case(
    "1", "0", "-1", "42", "007", "9223372036854775807", "9223372036854775808",
    "-9223372036854775807", "1.5", "0.5", ".5", "1.", "0.0", "-2.25", "1.5e3",
    "1.5E2", "2.5e-2", "1e5", "01.5", "123456789.0", "1.0e308 * 10.0",
    "null", "true", "false", '"hello"', '""', "[ ]", "{ }",
    "[ 1 2 3 ]", '[ 1 "a" null true 1.5 [ ] { } ]', "{ a = 1; b = \"x\"; c = null; }",
    "[ [ 1 ] [ [ 2 ] ] [ [ [ 3 ] ] ] ]", "{ a = { b = { c = { d = 1; }; }; }; }",
    "http://example.org/x?y=1", "(1)", "((((1))))", "[ (1) (2) ]",
    "# a comment\n1", "/* block */ 2", "1 # trailing",
)

# ---------------------------------------------------------------------------
section("attribute sets: dotted and nested keys, merging")
case(
    "{ a.b = 1; }",
    "{ a.b = 1; a.c = 2; }",
    "{ a.b.c = 1; a.b.d = 2; a.e = 3; }",
    "{ a = { b = 1; }; a.c = 2; }",
    "{ a.c = 2; a = { b = 1; }; }",
    "{ a = { b = 1; }; a = { c = 2; }; }",
    "{ a.b = 1; a = { b = 2; }; }",
    "{ a = 1; a = 2; }",
    "{ a = 1; a.b = 2; }",
    "{ a.b = 1; a = 2; }",
    "{ a.b.c = 1; a = { b.d = 2; }; }",
    "{ a = { b = { c = 1; }; }; a.b.d = 2; }",
    "{ a = rec { b = 1; }; a.c = 2; }",
    "{ a.b = 1; a.b = 2; }",
    "{ x.y.z = 1; x.y.w = 2; x.v = 3; u = 4; }",
    '{ "a b" = 1; }',
    '{ "a.b" = 1; }',
    '{ a."b c".d = 1; }',
    '{ "" = 1; }',
    '{ ${"dyn"} = 1; }',
    '{ ${"a" + "b"} = 1; }',
    '{ "${"x"}y" = 2; }',
    'let k = "key"; in { ${k} = 1; }',
    'let k = "key"; in { ${k}.sub = 1; }',
    '{ a.${"b"} = 1; a.c = 2; }',
    '{ ${null} = 1; b = 2; }',
    '{ ${"a"} = 1; a = 2; }',
    '{ ${"a"} = 1; ${"a"} = 2; }',
    '{ ${1} = 1; }',
    'rec { a = "x"; ${a} = 1; }',
    'let a = "k"; in rec { a = "x"; ${a} = 1; }',
    '{ a = 1; }.a',
    '{ a.b.c = 5; }.a.b.c',
    '{ a = { b = 2; }; }.a.b',
    '{ "a b" = 3; }."a b"',
    '{ ab = 3; }.${"a" + "b"}',
    'let s = { x = { y = 7; }; }; in s.x.y',
    'let s = { x = 1; }; n = "x"; in s.${n}',
    '{ a = 1; b = 2; c = 3; }',
    '{ z = 1; a = 2; m = 3; }',
    '{ B = 1; a = 2; _c = 3; "1" = 4; }',
    '{ a = { }; }',
    '{ a.b = { }; a.c = [ ]; }',
    '{ or = 1; }',
    '{ or = 1; }.or',
    '{ a = 1; }.b',
    '{ a = { b = 1; }; }.a.c',
    'let s = { }; in s.a.b',
    '(1).a',
    '"str".a',
    '[ 1 ].a',
    'null.a',
)

# ---------------------------------------------------------------------------
section("rec")
case(
    "rec { a = 1; b = a + 1; }",
    "rec { a = b; b = 1; }",
    "rec { a = b + 1; b = c * 2; c = 3; }",
    "rec { a = 1; b = { c = a; }; }",
    "rec { a.b = 1; c = a.b; }",
    "rec { a.b = 1; a.c = a.b + 1; }",
    "rec { a = b; b = a; }",
    "rec { a = b; b = a; }.a",
    "(rec { a = 1; b = a; }).b",
    "let a = 10; in rec { a = 1; b = a; }",
    "let a = 10; in rec { inherit a; b = a; }",
    "let x = 1; in rec { x = x; }",
    "rec { a = { x = 1; }; inherit (a) x; }",
    "rec { f = n: if n == 0 then 0 else n + f (n - 1); r = f 10; }.r",
    "rec { xs = [ 1 2 ]; ys = xs ++ [ 3 ]; }",
    "rec { a = rec { b = 1; c = b; }; d = a.c; }",
    "rec { a = 1; b = rec { a = 2; c = a; }; }.b.c",
    "rec { s = \"x\"; t = \"${s}y\"; }",
    "rec { a = 1; }.b or 2",
    "rec { }",
)

# ---------------------------------------------------------------------------
section("let ... in")
case(
    "let a = 1; in a",
    "let a = 1; b = 2; in a + b",
    "let a = b; b = 2; in a",
    "let a = 1; in let a = 2; in a",
    "let a = 1; in let b = a; a = 5; in b",
    "let a = { b = 1; }; in a.b",
    "let a.b = 1; in a",
    "let a.b = 1; a.c = 2; in a",
    "let x = 1; y = x + 1; z = y * 3; in [ x y z ]",
    "let f = x: x + 1; in f 1",
    "let f = x: y: x * y; in f 3 4",
    "let fact = n: if n == 0 then 1 else n * fact (n - 1); in fact 10",
    "let a = 1; a = 2; in a",
    "let in 1",
    "let a = 1; in { b = a; }",
    "let x = throw \"unused\"; in 1",
    "let x = 1 + \"a\"; in 2",
    "let x = x; in 3",
    "let x = undefinedVar; in 1",
    'let ${"a"} = 1; in a',
    "let a = 1; b = a; c = b; d = c; e = d; in e",
    "let a = [ b ]; b = 1; in a",
    "let a = { inherit b; }; b = 2; in a",
    "let s = { a = 1; }; in let inherit (s) a; in a",
    "let t = { x = 1; }; t2 = t // { y = 2; }; in t2",
)

# ---------------------------------------------------------------------------
section("inherit")
case(
    "let a = 1; in { inherit a; }",
    "let a = 1; b = 2; in { inherit a b; }",
    "let s = { x = 1; y = 2; }; in { inherit (s) x y; }",
    "let s = { x = 1; y = 2; }; in { inherit (s) x; z = 3; }",
    "let s = { x = 1; }; in { inherit (s) y; }",
    "let s = { x = 1; }; in { inherit (s) y; }.z or 5",
    "let s = { x = 1; y = throw \"no\"; }; in { inherit (s) x y; }.x",
    "{ inherit ({ a = 1; }) a; }",
    "let a = 1; in { inherit a; inherit a; }",
    "let a = 1; in { inherit a; a = 2; }",
    "{ inherit missing; }",
    "let a = 1; in let inherit a; in a",
    "let s = { a = { b = 3; }; }; in let inherit (s.a) b; in b",
    "let inherit ({ x = 4; }) x; in x",
    "let a = 1; in { inherit (null) a; }",
    "let a = 1; in { inherit (1) a; }.a",
    'let s = { "x y" = 1; }; in { inherit (s) "x y"; }',
    "let a = 5; f = { a }: { inherit a; }; in f { a = 6; }",
    "with { a = 1; }; { inherit a; }",
    "let a = 1; in with { a = 2; }; { inherit a; }",
    "{ inherit (builtins) length; }.length [ 1 2 ]",
    "let inherit (builtins) map head; in head (map (x: x * 2) [ 4 ])",
)

# ---------------------------------------------------------------------------
section("with")
case(
    "with { a = 1; }; a",
    "with { a = 1; b = 2; }; a + b",
    "with { a = 1; }; with { a = 2; }; a",
    "with { a = 1; }; with { b = 2; }; a + b",
    "let a = 1; in with { a = 2; }; a",
    "with { a = 2; }; let a = 1; in a",
    "with { a = 1; }; let b = a; in b",
    "with { a = 1; }; { b = a; }",
    "with { a = 1; }; rec { b = a; a = 3; c = a; }",
    "with { a = 1; }; x: a + x",
    "(with { a = 1; }; x: a + x) 2",
    "with { f = x: x * 3; }; f 3",
    "with { a = 1; }; b",
    "with 1; 2",
    "with 1; x",
    "with { true = false; }; true",
    "with { null = 1; }; null",
    "with { map = 1; }; map (x: x) [ 1 ]",
    "with { a = throw \"no\"; b = 1; }; b",
    "with (throw \"no\"); 1",
    "with { }; let x = undefinedVar; in 1",
    "with { }; 5",
    "with builtins; length [ 1 2 ]",
    "with builtins; head (map (x: x + 1) [ 1 ])",
    "with builtins; attrNames { b = 1; a = 2; }",
    "with { s = { t = 1; }; }; s.t",
    "with { a = 1; }; with { a = throw \"x\"; }; 1",
    "with { a = 1; }; with { b = 2; }; with { a = 3; }; a",
    "let s = { a = 1; }; in with s; a",
    "let a = 1; s = { a = 2; b = 3; }; in with s; a + b",
    "with { x = 1; }; let f = y: x + y; in f 2",
    "let f = x: with { x = 10; y = 2; }; x + y; in f 1",
    "with { a = 1; }; with { }; a",
    "with { a = { b = 2; }; }; a.b",
    "with { a = { b = 2; }; }; a ? b",
    "with { a = 1; }; a ? b",
    "with rec { a = 1; b = a + 1; }; b",
    "with { a = 1; }; [ a a ]",
    "with [ 1 ]; 2",
    "with [ 1 ]; a",
)

# ---------------------------------------------------------------------------
section("if / assert")
case(
    "if true then 1 else 2",
    "if false then 1 else 2",
    "if 1 == 1 then \"y\" else \"n\"",
    "if 1 then 1 else 2",
    "if null then 1 else 2",
    "if true then 1 else throw \"no\"",
    "if false then throw \"no\" else 2",
    "if true then if false then 1 else 2 else 3",
    "[ (if true then 1 else 2) (if false then 3 else 4) ]",
    "let x = 5; in if x > 3 then \"big\" else \"small\"",
    "if \"a\" == \"a\" then { a = 1; } else { }",
    "assert true; 1",
    "assert false; 1",
    "assert 1 == 1; assert 2 == 2; 3",
    "assert 1; 2",
    "assert \"a\" == \"b\"; 1",
    "let x = 1; in assert x == 1; x + 1",
    "{ a = assert false; 1; b = 2; }.b",
    "{ a = assert false; 1; b = 2; }",
    "assert throw \"c\"; 1",
    "assert [ ] == [ ]; { }",
)

# ---------------------------------------------------------------------------
section("or and ?")
case(
    "{ a = 1; }.a or 2",
    "{ a = 1; }.b or 2",
    "{ a = { b = 1; }; }.a.b or 2",
    "{ a = { b = 1; }; }.a.c or 2",
    "{ a = 1; }.a.b or 2",
    "{ }.a.b.c or 3",
    "(1).a or 2",
    "\"s\".a or 2",
    "null.a or 3",
    "{ a = 1; }.b or { }.c or 4",
    "{ a = 1; }.b or 2 + 1",
    "{ a = throw \"x\"; }.b or 1",
    "{ a = throw \"x\"; }.a or 1",
    "{ }.a or (throw \"dflt\")",
    "let s = { a.b = 5; }; in s.a.b or 0",
    "let s = { a.b = 5; }; in s.a.c or 0",
    "let s = { }; in s.${\"k\"} or 9",
    "{ a = 1; } ? a",
    "{ a = 1; } ? b",
    "{ a.b = 1; } ? a.b",
    "{ a.b = 1; } ? a.c",
    "{ a = 1; } ? a.b",
    "1 ? a",
    "null ? a",
    "[ ] ? a",
    "{ a = throw \"x\"; } ? a",
    "{ a = throw \"x\"; } ? a.b",
    "{ a = 1; } ? ${\"a\"}",
    "{ a = 1; } ? \"a\"",
    "{ \"a b\" = 1; } ? \"a b\"",
    "{ a = 1; } ? a == true",
    "!({ a = 1; } ? a)",
    "({ a = 1; } ? b) || true",
    "let s = { x = null; }; in s ? x",
    "let s = { x = null; }; in s.x or 1",
    "{ a = { }; } ? a.b.c",
    "{ a = 1; } ? ${null}",
)

# ---------------------------------------------------------------------------
section("strings: escapes and interpolation")
case(
    r'"a\nb"', r'"a\tb"', r'"a\rb"', r'"a\\b"', r'"a\"b"', r'"a\$b"', r'"\${x}"',
    r'"a\qb"', r'"\u00e9"', '"$"', '"$a"', '"$${x}"', '"$$"', '"a$"', '"${"x"}"',
    '"é ü 日本"', '"multi\nline"',
    '"a${"b"}c"', '"${"a"}${"b"}"', '"x${"y${"z"}"}"', '"${toString 1}"',
    '"${toString 12}-${toString true}"', '"${{ a = "v"; }.a}"',
    'let n = "world"; in "hello ${n}!"', 'let a = "x"; b = "${a}${a}"; in "${b}${b}"',
    '"${1}"', '"${null}"', '"${true}"', '"${[ ]}"', '"${{ }}"', '"${x: x}"', '"${1.5}"',
    '"${"a" + "b"}"', '"a" + "b"', '"a" + "b" + "c"', '"" + ""',
    '"${throw "no"}"', '"x${let y = "1"; in y}"', '"${if true then "t" else "f"}"',
    '"${builtins.head [ "h" ]}"', '"${{ __toString = s: "ts"; }}"',
    '"${{ outPath = "op"; }}"', '"a" + toString 1',
    '"\\n"', '"tab\there"', '"quote \\" end"',
)

section("strings: indented '' strings")
case(
    "''hello''",
    "''\n  hello\n''",
    "''\n  a\n  b\n''",
    "''\n  a\n    b\n  c\n''",
    "''\n    a\n  b\n''",
    "''\n  a\n\n  b\n''",
    "''\n  a\n  \n  b\n''",
    "''\n\ta\n\tb\n''",
    "''  leading''",
    "''first\n  second\n  ''",
    "''\n  x ${\"y\"} z\n''",
    "''\n  ${\"a\"}\n  b\n''",
    "''\n  ${\"  a\"}\n    b\n''",
    "''\n  $${x}\n''",
    "''\n  ''${x}\n''",
    "''\n  '''\n''",
    "''a'''b''",
    "''\n  ''\\n\n''",
    "''\n  ''\\t''",
    "''\n  ''\\r''",
    "''''\\x''",
    "''$''",
    "''$$''",
    "''\n  a\n  ''",
    "''\n  a\n  b''",
    "''\n\n\n  a\n''",
    "''\n  a\n \n  b\n''",
    "''\n    indented\n      more\n    back\n''",
    "''${\"x\"}\n  y''",
    "''\n  line ${toString 1}\n  line ${toString 2}\n''",
    "''\n  a\\b\n''",
    "''\n  \"quoted\"\n''",
    "''''",
    "''\n''",
    "''   ''",
    "''\n  a\n\t b\n''",
    "let x = \"X\"; in ''\n  pre ${x} post\n    ${x}\n''",
    "''\n  # not a comment\n''",
    "''\n  ${\"\"}\n''",
    "''\n   a\n  ${\"b\"}\n''",
)

# ---------------------------------------------------------------------------
section("lists: ++")
case(
    "[ 1 ] ++ [ 2 ]", "[ ] ++ [ ]", "[ 1 ] ++ [ ]", "[ ] ++ [ 1 ]",
    "[ 1 ] ++ [ 2 ] ++ [ 3 ]", "([ 1 ] ++ [ 2 ]) ++ [ 3 ]",
    "[ [ 1 ] ] ++ [ [ 2 ] ]", "[ 1 ] ++ 2", "1 ++ [ 2 ]", "[ 1 ] ++ { }",
    "[ 1 ] ++ null", "\"a\" ++ \"b\"",
    "let xs = [ 1 2 ]; in xs ++ xs",
    "builtins.length ([ (throw \"x\") ] ++ [ 1 ])",
    "builtins.head ([ 1 ] ++ [ (throw \"x\") ])",
    "let f = x: x; in builtins.length [ f 1 ]",
    "let f = x: x; in [ (f 1) ]",
    "[ 1 (2) (3 + 4) \"x\" ]",
    "[ -1 ]", "[ 1 -1 ]", "[ (-1) ]",
)

section("attribute sets: //")
case(
    "{ a = 1; } // { b = 2; }",
    "{ a = 1; } // { a = 2; }",
    "{ a = { x = 1; }; } // { a = { y = 2; }; }",
    "{ } // { }",
    "{ a = 1; } // { }",
    "{ a = 1; } // { b = 2; } // { a = 3; }",
    "({ a = 1; } // { b = 2; }) // { a = 3; }",
    "{ a = 1; } // 1",
    "1 // { a = 1; }",
    "[ ] // { }",
    "({ a = 1; } // { b = throw \"x\"; }).a",
    "let s = { a = 1; b = 2; }; in s // { b = 3; }",
    "({ a = 1; } // { a = 2; }).a",
    "{ a = 1; } // { b = 2; } ? a",
)

# ---------------------------------------------------------------------------
section("arithmetic")
case(
    "1 + 2", "1 + 2 * 3", "(1 + 2) * 3", "10 - 3 - 2", "2 * 3 * 4", "100 / 10 / 2",
    "7 / 2", "-7 / 2", "7 / -2", "-7 / -2", "7.0 / 2", "7 / 2.0", "1 / 3.0",
    "0 / 5", "1 / 0", "1.0 / 0", "1 / 0.0", "0.0 / 0.0", "5 - 10", "-(3)", "-(-3)",
    "- 2.5", "-2 * 3", "2 * -3", "1 - -1", "1.5 + 1.5", "0.1 + 0.2", "1.5 * 2",
    "2 * 1.5", "3 - 0.5", "1 + 1.0", "9223372036854775807 + 1",
    "-9223372036854775807 - 2", "4611686018427387904 * 2", "3037000500 * 3037000500",
    "1.0e300 * 1.0e300", "-1.0e300 * 1.0e300", "10 / 3 * 3", "10 - 2 * 3",
    "let x = 6; in x/2", "let x = 6; in x / 2",
    "1 + true", "true + 1", "null + 1", "1 + null", "1 - \"a\"", "\"a\" - 1", "[ ] * 2",
    "{ } / 1", "2 * \"x\"", "-\"a\"", "-true", "- null", "-[ 1 ]",
    "1+2", "2*3", "4-1",
)

# ---------------------------------------------------------------------------
section("comparisons")
case(
    "1 < 2", "2 < 1", "1 <= 1", "1 > 0", "1 >= 2", "1 == 1", "1 != 1", "1 == 2",
    "1 == 1.0", "1 < 1.5", "1.5 < 1", "2.0 >= 2", "0.1 + 0.2 == 0.3",
    "\"a\" < \"b\"", "\"b\" < \"a\"", "\"B\" < \"a\"", "\"a\" < \"ab\"", "\"\" < \"a\"",
    "\"abc\" == \"abc\"", "\"abc\" != \"abd\"", "\"a\" <= \"a\"", "\"z\" >= \"a\"",
    "[ 1 2 ] < [ 1 3 ]", "[ 1 ] < [ 1 0 ]", "[ ] < [ 0 ]", "[ 0 ] < [ ]",
    "[ 1 \"a\" ] < [ 1 \"b\" ]", "[ 1 ] < [ \"a\" ]", "[ [ 1 ] ] < [ [ 2 ] ]",
    "[ 2 ] > [ 1 5 ]", "[ 1 2 ] <= [ 1 2 ]", "[ 1.5 ] < [ 2 ]",
    "null < null", "true < false", "{ } < { }", "1 < \"a\"", "\"a\" < 1", "null < 1",
    "(x: x) < (x: x)",
    "[ 1 2 ] == [ 1 2 ]", "[ 1 2 ] == [ 2 1 ]", "[ ] == [ ]", "[ 1 ] == [ 1 2 ]",
    "{ } == { }", "{ a = 1; } == { a = 1; }", "{ a = 1; } == { a = 2; }",
    "{ a = 1; } == { b = 1; }", "{ a = 1; b = 2; } == { b = 2; a = 1; }",
    "{ a = { b = [ 1 ]; }; } == { a = { b = [ 1 ]; }; }",
    "null == null", "null == false", "true == true", "true != false", "1 == \"1\"",
    "\"1\" == 1", "[ 1 ] == 1", "{ } == [ ]", "1.0 == 1.0", "[ 1 ] == [ 1.0 ]",
    "(x: x) == (x: x)", "let f = x: x; in f == f", "let f = x: x; in [ f ] == [ f ]",
    "let f = x: x; in { a = f; } == { a = f; }",
    "let s = { f = x: x; }; in s == s",
    "{ a = x: x; } == { a = x: x; }",
    "{ a = 1; } == { a = 1; b = throw \"x\"; }",
    "[ 1 (throw \"x\") ] == [ 2 (throw \"y\") ]",
    "[ 1 ] == [ 1 (throw \"x\") ]",
    "1 < 2 == true", "1 == 1 == true", "(1 == 1) == true",
    "\"a\" == \"a\" && 1 < 2",
)

# ---------------------------------------------------------------------------
section("boolean operators and short-circuit")
case(
    "true && true", "true && false", "false && true", "false && false",
    "true || false", "false || false", "false || true",
    "true -> false", "false -> false", "false -> true", "true -> true",
    "!true", "!false", "!!true", "! (1 == 2)",
    "false && throw \"no\"", "true || throw \"no\"", "false -> throw \"no\"",
    "true && throw \"yes\"", "false || throw \"yes\"", "true -> throw \"yes\"",
    "false && 1", "true && 1", "1 && true", "true || 1", "false || 1", "!1", "!null",
    "true || false && false", "(true || false) && false", "!true || true",
    "!(true || true)", "false -> false -> false", "(false -> false) -> false",
    "true && false || true", "1 < 2 && 2 < 3", "1 < 2 || 1 + \"a\" == 2",
    "let a = true; b = false; in a && !b", "true && (false || true)",
    "false && (x: x)", "[ (true && false) (true || false) ]",
)

# ---------------------------------------------------------------------------
section("lambdas")
case(
    "(x: x) 1", "(x: y: x) 1 2", "(x: y: y) 1 2", "(x: x + 1) ((x: x * 2) 3)",
    "let f = x: x; in f f 1", "let twice = f: x: f (f x); in twice (x: x * 3) 2",
    "let compose = f: g: x: f (g x); in compose (x: x + 1) (x: x * 10) 2",
    "(x: x)", "x: x", "[ (x: x) ]", "{ f = x: x; }",
    "({ a, b }: a + b) { a = 1; b = 2; }",
    "({ a, b ? 10 }: a + b) { a = 1; }",
    "({ a, b ? 10 }: a + b) { a = 1; b = 2; }",
    "({ a, b ? a + 1 }: b) { a = 1; }",
    "({ a ? b, b ? 2 }: a) { }",
    "({ a ? b, b ? a }: a) { }",
    "({ a ? 1, ... }: a) { b = 2; }",
    "({ a, ... }: a) { a = 1; b = 2; c = 3; }",
    "({ a }: a) { a = 1; b = 2; }",
    "({ a }: a) { }",
    "({ a, b }: a) { a = 1; }",
    "({ a }: a) 1",
    "({ ... }: 1) { }",
    "({ ... }: 1) { x = throw \"no\"; }",
    "({ }: 1) { }",
    "({ }: 1) { a = 1; }",
    "(args@{ a, ... }: args) { a = 1; b = 2; }",
    "({ a, ... }@args: args.b) { a = 1; b = 2; }",
    "(args@{ a ? 5 }: args) { }",
    "(args@{ a ? 5 }: args.a or \"none\") { }",
    "(args@{ a ? 5 }: a) { }",
    "(s@{ a ? s.b, ... }: a) { b = 3; }",
    "(s@{ a, b ? s.a * 2 }: b) { a = 4; }",
    "({ a, b ? c, c ? 7 }: [ a b c ]) { a = 1; }",
    "({ a ? throw \"unused default\" }: 1) { }",
    "({ a ? throw \"used default\" }: a) { }",
    "({ a }: 2) { a = throw \"lazy\"; }",
    "(x: 1) (throw \"lazy\")",
    "let f = { a, b }: a; in f { a = 1; b = throw \"x\"; }",
    "let a = 100; in ({ a ? a }: a) { }",
    "let x = 1; in ({ y ? x }: y) { }",
    "let f = { x ? 1, y ? x + 1 }: x * y; in [ (f { }) (f { x = 3; }) (f { y = 5; }) ]",
    "(x: x.a) { a = 9; }",
    "(x: { inherit x; }) 1",
    "(x: rec { inherit x; y = x; }) 2",
    "let f = x: if x == 0 then 0 else f (x - 1); in f 20",
    "let f = x: y: z: x + y + z; g = f 1; in g 2 3",
    "let f = x: y: x; in (f 1) (throw \"no\")",
    "1 2", "\"f\" 1", "{ } 1", "null 1", "[ ] 1",
    "(x: x) 1 2",
    "{ __functor = self: x: x + self.n; n = 10; } 5",
    "let a = { __functor = s: x: s.v * x; v = 3; }; in a 4",
    "((x: y: x + y) 1)",
    "let id = x: x; in id id id 7",
    "let flip = f: a: b: f b a; in flip (a: b: a - b) 1 10",
    "(a: b: c: [ a b c ]) 1 2 3",
    "let f = { a, b }@s: s.a + b; in f { a = 1; b = 2; }",
    "({ a, a }: a) { a = 1; }",
    "(a@{ a }: a) { a = 1; }",
)

# ---------------------------------------------------------------------------
section("builtins: map filter concatLists")
case(
    "map (x: x * 2) [ 1 2 3 ]", "builtins.map (x: x + 1) [ ]",
    "map (x: \"${x}!\") [ \"a\" \"b\" ]", "map (x: x) 1", "map 1 [ 1 ]", "map 1 [ ]",
    "builtins.length (map (x: throw \"x\") [ 1 2 ])",
    "map (x: [ x x ]) [ 1 2 ]", "map (f: f 2) [ (x: x + 1) (x: x * 5) ]",
    "map ({ a, ... }: a) [ { a = 1; } { a = 2; b = 3; } ]",
    "builtins.map builtins.head [ [ 1 ] [ 2 3 ] ]",
    "map (x: x) [ 1 (throw \"e\") ]",
    "builtins.filter (x: x > 1) [ 1 2 3 ]", "builtins.filter (x: true) [ ]",
    "builtins.filter (x: x) [ true false true ]", "builtins.filter (x: 1) [ 1 ]",
    "builtins.filter (x: x == \"a\") [ \"a\" \"b\" \"a\" ]",
    "builtins.filter (x: x.keep) [ { keep = true; v = 1; } { keep = false; v = 2; } ]",
    "builtins.filter (x: x) 1", "builtins.filter 1 [ 1 ]",
    "builtins.filter (x: false) [ (throw \"e\") ]",
    "builtins.length (builtins.filter (x: true) [ (throw \"e\") ])",
    "builtins.concatLists [ [ 1 ] [ 2 3 ] [ ] ]", "builtins.concatLists [ ]",
    "builtins.concatLists [ [ [ 1 ] ] [ [ 2 ] ] ]", "builtins.concatLists [ 1 ]",
    "builtins.concatLists 1", "builtins.concatLists [ [ 1 ] 2 ]",
    "builtins.concatLists (map (x: [ x x ]) [ 1 2 ])",
)

section("builtins: mapAttrs listToAttrs attrNames attrValues")
case(
    "builtins.mapAttrs (n: v: v + 1) { a = 1; b = 2; }",
    "builtins.mapAttrs (n: v: n) { a = 1; b = 2; }",
    "builtins.mapAttrs (n: v: \"${n}=${toString v}\") { x = 1; }",
    "builtins.mapAttrs (n: v: v) { }", "builtins.mapAttrs (n: v: v) 1",
    "builtins.mapAttrs (n: v: throw \"x\") { a = 1; }",
    "(builtins.mapAttrs (n: v: throw \"x\") { a = 1; b = 2; }) ? a",
    "builtins.attrNames (builtins.mapAttrs (n: v: throw \"x\") { a = 1; b = 2; })",
    "builtins.mapAttrs (n: v: v * 2) { a = 1; b = throw \"x\"; }",
    "(builtins.mapAttrs (n: v: v * 2) { a = 1; b = throw \"x\"; }).a",
    "builtins.mapAttrs (n: { x }: x) { a = { x = 1; }; }",
    "builtins.mapAttrs (n: 1) { a = 1; }",
    "builtins.listToAttrs [ { name = \"a\"; value = 1; } { name = \"b\"; value = 2; } ]",
    "builtins.listToAttrs [ ]",
    "builtins.listToAttrs [ { name = \"a\"; value = 1; } { name = \"a\"; value = 2; } ]",
    "builtins.listToAttrs [ { name = \"a\"; } ]",
    "builtins.listToAttrs [ { value = 1; } ]",
    "builtins.listToAttrs [ 1 ]", "builtins.listToAttrs 1",
    "builtins.listToAttrs [ { name = 1; value = 1; } ]",
    "builtins.listToAttrs [ { name = \"a\"; value = throw \"x\"; } ] ? a",
    "builtins.listToAttrs (map (n: { name = n; value = n + n; }) [ \"x\" \"y\" ])",
    "builtins.listToAttrs [ { name = \"a\"; value = 1; extra = 2; } ]",
    "builtins.attrNames { b = 1; a = 2; c = 3; }", "builtins.attrNames { }",
    "builtins.attrNames { B = 1; a = 2; _c = 3; \"1\" = 4; \"\" = 5; }",
    "builtins.attrNames { a = throw \"x\"; }", "builtins.attrNames [ ]",
    "builtins.attrNames 1", "builtins.attrNames { a.b = 1; c = 2; }",
    "builtins.attrValues { b = 1; a = 2; c = 3; }", "builtins.attrValues { }",
    "builtins.attrValues { a = [ 1 ]; b = { c = 1; }; }", "builtins.attrValues null",
    "builtins.length (builtins.attrValues { a = throw \"x\"; b = 1; })",
    "builtins.attrValues (builtins.mapAttrs (n: v: n + v) { x = \"1\"; y = \"2\"; })",
)

section("builtins: elem head length")
case(
    "builtins.elem 1 [ 1 2 ]", "builtins.elem 3 [ 1 2 ]", "builtins.elem 1 [ ]",
    "builtins.elem 1 [ 1.0 ]", "builtins.elem \"a\" [ \"b\" \"a\" ]",
    "builtins.elem [ 1 ] [ [ 1 ] ]", "builtins.elem { a = 1; } [ { a = 1; } ]",
    "builtins.elem null [ null ]", "builtins.elem 1 [ \"1\" ]", "builtins.elem 1 2",
    "builtins.elem 1 [ 1 (throw \"x\") ]", "builtins.elem 2 [ 1 (throw \"x\") ]",
    "builtins.head [ 1 2 ]", "builtins.head [ ]", "builtins.head 1",
    "builtins.head [ [ 1 ] ]", "builtins.head [ 1 (throw \"x\") ]",
    "builtins.head [ (throw \"x\") 1 ]", "builtins.head (builtins.head [ [ 7 ] ])",
    "builtins.length [ ]", "builtins.length [ 1 2 3 ]", "builtins.length 1",
    "builtins.length \"abc\"", "builtins.length { }",
    "builtins.length [ (throw \"a\") (throw \"b\") ]",
    "builtins.length ([ 1 ] ++ [ 2 3 ])",
)

section("builtins: toString replaceStrings concatStringsSep")
case(
    "toString 1", "toString (-5)", "toString \"s\"", "toString true", "toString false",
    "toString null", "toString [ 1 2 ]", "toString [ ]", "toString [ \"a\" [ \"b\" ] ]",
    "toString [ 1 [ ] 2 ]", "toString [ [ ] 1 ]", "toString [ 1 [ ] ]",
    "toString [ [ ] [ ] ]", "toString [ null null ]", "toString [ true false 1 ]",
    "toString [ [ 1 2 ] [ 3 ] ]", "toString [ \"\" \"a\" ]", "toString 1.5",
    "toString { }", "toString (x: x)", "toString { __toString = s: \"me\"; }",
    "toString { outPath = \"/x\"; }", "builtins.toString 42",
    "builtins.toString [ 1 \"x\" ]", "toString \"\"",
    "builtins.replaceStrings [ \"a\" ] [ \"b\" ] \"banana\"",
    "builtins.replaceStrings [ \"an\" \"a\" ] [ \"AN\" \"A\" ] \"banana\"",
    "builtins.replaceStrings [ \"a\" \"an\" ] [ \"A\" \"AN\" ] \"banana\"",
    "builtins.replaceStrings [ ] [ ] \"x\"",
    "builtins.replaceStrings [ \"\" ] [ \"-\" ] \"abc\"",
    "builtins.replaceStrings [ \"\" ] [ \"-\" ] \"\"",
    "builtins.replaceStrings [ \"x\" ] [ \"\" ] \"axbxc\"",
    "builtins.replaceStrings [ \"a\" ] [ \"b\" \"c\" ] \"a\"",
    "builtins.replaceStrings [ 1 ] [ \"b\" ] \"a\"",
    "builtins.replaceStrings [ \"a\" ] [ \"b\" ] 1",
    "builtins.replaceStrings [ \"aa\" ] [ \"b\" ] \"aaa\"",
    "builtins.replaceStrings [ \"é\" ] [ \"e\" ] \"café\"",
    "builtins.replaceStrings [ \"-\" \"_\" ] [ \"_\" \"-\" ] \"a-b_c\"",
    "builtins.replaceStrings [ \"a\" \"\" ] [ \"X\" \"-\" ] \"ab\"",
    "builtins.concatStringsSep \", \" [ \"a\" \"b\" \"c\" ]",
    "builtins.concatStringsSep \"\" [ \"a\" \"b\" ]",
    "builtins.concatStringsSep \"-\" [ ]", "builtins.concatStringsSep \"-\" [ \"x\" ]",
    "builtins.concatStringsSep \",\" [ 1 2 ]", "builtins.concatStringsSep 1 [ \"a\" ]",
    "builtins.concatStringsSep \",\" \"a\"",
    "builtins.concatStringsSep \",\" [ \"a\" null ]",
    "builtins.concatStringsSep \",\" [ \"a\" [ \"b\" ] ]",
    "builtins.concatStringsSep \"/\" (map toString [ 1 2 3 ])",
)

section("builtins: throw, globals, builtins attribute set")
case(
    "throw \"boom\"", "builtins.throw \"boom\"", "throw 1",
    "let f = x: throw \"bad ${x}\"; in f \"y\"", "[ 1 (throw \"in list\") ]",
    "{ a = throw \"in set\"; }", "builtins.true", "builtins.false", "builtins.null",
    "builtins.length builtins.attrNames", "builtins ? map", "builtins ? noSuchBuiltin",
    "builtins.noSuchBuiltin", "builtins.noSuchBuiltin or 5",
    "let builtins = { map = 1; }; in builtins.map", "let map = x: 1; in map 2",
    "let toString = x: \"mine\"; in toString 1", "let throw = 1; in throw",
    "let true = false; in true", "let null = 1; in null",
    "builtins.map", "map", "builtins.add 1 2", "builtins.typeOf 1",
    "builtins.tryEval (throw \"x\")", "builtins.foldl' (a: b: a + b) 0 [ 1 2 3 ]",
    "builtins.genList (x: x) 3", "builtins.isAttrs { }", "builtins.hasAttr \"a\" { a = 1; }",
    "builtins.getAttr \"a\" { a = 1; }", "builtins.removeAttrs { a = 1; b = 2; } [ \"a\" ]",
    "builtins.stringLength \"abc\"", "builtins.substring 0 2 \"abc\"", "builtins.sort builtins.lessThan [ 2 1 ]",
    "builtins.tail [ 1 2 ]", "builtins.elemAt [ 1 2 ] 1", "builtins.fromJSON \"[1]\"",
    "builtins.toJSON [ 1 ]", "builtins.seq 1 2", "builtins.deepSeq [ 1 ] 2",
    "builtins.isNull null", "isNull null", "abort \"x\"", "builtins.abort \"x\"",
    "import ./x.nix", "builtins.readFile ./x", "builtins.pathExists ./nope",
    "./relative/path", "/abs/path", "~/home", "<nixpkgs>", "\"${./x}\"",
    "baseNameOf \"/a/b\"", "dirOf \"/a/b\"", "removeAttrs { a = 1; } [ \"a\" ]",
    "derivation { }", "builtins.currentSystem", "builtins.nixVersion",
    "__curPos", "let { body = 1; }", "builtins.getEnv \"HOME\"",
    "[ 1 ] ++ (builtins.readFile ./x)", "builtins.length ([ 1 ] ++ (import ./x.nix))",
)

# ---------------------------------------------------------------------------
section("errors")
case(
    "{ a = 1; }.b", "let s = { }; in s.a", "{ a = { }; }.a.b", "1 + \"a\"", "\"a\" + 1",
    "\"a\" + null", "[ 1 ] + [ 2 ]", "{ } + { }", "1 / 0", "10 / (5 - 5)",
    "assert false; 1", "assert 1 == 2; 1", "let x = x; in x", "let x = y; y = x; in x",
    "let x = x + 1; in x", "rec { a = b; b = a; }.a", "let s = { a = s.a; }; in s.a",
    "let xs = [ (builtins.head xs) ]; in xs", "let s = rec { a = s.a; }; in s",
    "let f = x: f x; in f 1", "let f = x: 1 + f x; in f 1", "throw \"boom\"",
    "undefinedVariable", "let a = 1; in b", "(x: x) 1 2", "1 1", "builtins.head [ ]",
    "builtins.length 1", "map (x: x) 1", "({ a }: a) { b = 1; }", "if 1 then 2 else 3",
    "!1", "-\"x\"", "{ a = 1; a = 2; }.a", "x: y", "{ a = 1; }.a.b",
    "builtins.attrNames [ ]", "toString { }", "\"${[ 1 ]}\"", "\"${{ }}\"",
    "[ (throw \"a\") ]", "{ a = { b = throw \"deep\"; }; }",
    "let s = { a = 1; }; in s.a + s.b", "(1 + 2) + (throw \"x\")",
    "[ 1 ] == [ (throw \"x\") ]", "{ a = throw \"x\"; } == { a = 1; }",
    "1 < (throw \"x\")", "(throw \"x\") < 1", "{ a = 1; } // (throw \"x\")",
    "[ ] ++ (throw \"x\")", "(throw \"a\") + (throw \"b\")",
    "assert (throw \"c\"); 1", "if (throw \"c\") then 1 else 2",
    "let f = { a, b }: a; in f { a = 1; }", "let x = { }; in x.y.z",
    "{ \"a\" = 1; }.\"b\"", "let l = [ 1 2 ]; in l.a", "null.x", "null ? x",
)

# ---------------------------------------------------------------------------
section("precedence and parsing corners")
case(
    "1 + 2 == 3", "2 * 3 + 1", "1 + 2 * 3 - 4 / 2", "-1 + 2", "- 1 - 1",
    "!true == false", "!(true == false)", "[ 1 ] ++ [ 2 ] == [ 1 2 ]",
    "{ a = 1; } // { b = 2; } == { a = 1; b = 2; }", "\"a\" + \"b\" == \"ab\"",
    "{ a.b = 1; }.a.b + 1", "-{ a = 1; }.a", "(x: x) { a = 1; }.a",
    "let f = x: x; in f { a = 2; }.a", "let s = { f = x: x * 2; }; in s.f 3",
    "[ { a = 1; }.a ]", "[ 1 ] ++ [ 2 ] ++ [ ]", "{ } // { } // { a = 1; }",
    "true && false -> true", "false -> true && false",
    "1 < 2 && 3 > 2 || false", "let a = 1; in -a", "let a = 1; in - a",
    "let a = 5; in a - 1", "let a = 5; in a -1",
    "let a-b = 3; in a-b", "let a' = 2; in a' + a'", "let _a = 1; in _a",
    "let a = 1; in \"${toString a}\" + \"${toString a}\"",
    "let x = 2; in x*x", "let x = 4; in [ x/2 ]", "let x = 4; in x / 2",
    "(if true then x: x * 2 else x: x) 3", "(assert true; x: x) 4",
    "(let y = 2; in x: x + y) 1", "(with { y = 1; }; x: x + y) 1",
    "{ a = 1; }.a or 2 == 1", "let or = 1; in or",
    "[ 1 2 3 ] == [ 1 2 3 ] && { } == { }",
    "({ a = 1; } ? a) && ({ } ? a) == false",
    "let a = 2; b = 3; in a * b + a / b - a",
    "\"x\" + (if true then \"y\" else \"z\")",
    "let f = a: b: a - b; in f 10 (f 3 1)",
    "(x: x) (x: x) 9", "builtins.map (x: x) (builtins.map (x: x + 1) [ 1 ])",
    "let x = 1; y = x; in x == y", "{ } ? \"\"",
)

# ---------------------------------------------------------------------------
section("laziness")
case(
    "let x = throw \"no\"; in 1", "{ a = 1; b = throw \"x\"; }.a",
    "builtins.length [ (throw \"x\") ]", "(x: 1) (throw \"x\")",
    "let f = { a, b }: a; in f { a = 1; b = throw \"x\"; }",
    "builtins.head [ 1 (throw \"x\") ]", "builtins.attrNames { a = throw \"x\"; }",
    "{ a = throw \"x\"; } ? a", "if true then 1 else throw \"x\"",
    "let xs = [ 1 (throw \"x\") 3 ]; in builtins.length xs",
    "let s = { a = 1; b = 1 + \"x\"; }; in s.a",
    "let s = rec { a = 1; b = c; c = throw \"x\"; }; in s.a",
    "let x = x; in 5", "let s = { a = s.a; b = 2; }; in s.b",
    "let inf = { next = inf; v = 1; }; in inf.next.next.next.v",
    "let ones = [ 1 ] ++ ones; in builtins.head ones",
    "let nat = n: { v = n; next = nat (n + 1); }; in (nat 0).next.next.next.v",
    "builtins.elem 1 [ 1 (throw \"x\") ]",
    "({ a ? throw \"x\" }: 1) { }",
    "(builtins.mapAttrs (n: v: throw \"x\") { a = 1; }) ? a",
    "with { a = 1; b = throw \"x\"; }; a",
    "let a = { x = 1; } // { y = throw \"x\"; }; in a.x",
    "{ a = 1; } == { a = 2; b = throw \"x\"; }",
    "builtins.length (map throw [ 1 2 ])",
    "let s = { inherit (throw \"x\") a; b = 2; }; in s.b",
    "let s = { inherit (throw \"x\") a; b = 2; }; in s ? a",
    "let f = x: 1; in f (let y = y; in y)",
    "builtins.length (builtins.attrValues { a = throw \"x\"; })",
)

# ---------------------------------------------------------------------------
section("partial values: what is known next to what is not")
case(
    "builtins.head ([ 1 ] ++ (throw \"x\"))",
    "builtins.head ([ 1 ] ++ (1 + \"a\"))",
    "builtins.head ([ 1 ] ++ 2)",
    "builtins.elem 1 ([ 1 ] ++ (throw \"x\"))",
    "builtins.head ([ 1 ] ++ (builtins.readFile ./x))",
    "builtins.head (builtins.concatLists [ [ 1 ] (throw \"x\") ])",
    "builtins.head (builtins.filter (x: x.ok) [ { ok = true; v = 1; } 1 ])",
    "builtins.head (builtins.filter (x: x) [ true (throw \"x\") ])",
    "builtins.head (map (x: x) ([ 1 ] ++ (throw \"x\")))",
    "(builtins.listToAttrs ([ { name = \"a\"; value = 1; } ] ++ (throw \"x\"))).a",
    "(builtins.listToAttrs [ { name = \"a\"; value = 1; } (throw \"x\") ]).a",
    "{ a = 1; ${throw \"x\"} = 2; }.a",
    "{ a = 1; ${1} = 2; }.a",
    "{ a = 1; ${throw \"x\"} = 2; } ? a",
    "({ a, ... }: a) { a = 1; ${throw \"x\"} = 2; }",
    "with { a = 1; ${throw \"x\"} = 2; }; a",
    "builtins.attrNames { a = 1; ${throw \"x\"} = 2; }",
    "({ a = 1; } // { ${throw \"x\"} = 2; }).a",
    "let s = { a = 1; a = 2; }; in 1",
    "{ a = 1; a = 2; b = 3; }.b",
    "let a = 1; a = 2; in 3",
    "let f = x: y; in 1",
    "(x: 1) (x: undefinedVar)",
    "{ a = 1; b = undefinedVar; }.a",
    "if true then 1 else undefinedVar",
    "let ones = [ 1 ] ++ ones; in builtins.head ones",
    "let s = { a = 1; } // s; in s.a",
    "let xs = builtins.concatLists [ [ 1 ] xs ]; in builtins.head xs",
)

# ---------------------------------------------------------------------------
section("more corners")
case(
    '(builtins.mapAttrs (n: v: v) { a = 1; ${throw "x"} = 2; }).a',
    '{ outPath = "a"; x = 1; } == { outPath = "a"; x = 2; }',
    "map { __functor = s: x: x + 1; } [ 1 ]",
    "builtins.filter { __functor = s: x: x > 1; } [ 1 2 ]",
    "''${\"a\"}\\n''",
    'let a = 1; in { inherit ${"a"}; }',
    'let a = 1; in { inherit "a"; }',
    "rec { a = 1; b = { inherit a; }; }",
    "(let a = 1; in rec { b = a; a = 2; }).b",
    "let f = { a ? 1 }@args: args // { b = a; }; in f { }",
    '"é" < "z"',
    "9007199254740993 == 9007199254740992.0",
    "9007199254740993 < 9007199254740992.0",
    "{ a = 1; } == { a = 1.0; }",
    "-0.0",
    "[ 0.0 (-0.0) ]",
    "1 / 3 * 3.0",
    "let x = { a = 1; }; in x // x",
    "with { a = 1; }; with { a = 2; }; let b = a; in with { a = 3; }; b",
    "let s = rec { a = 1; f = x: x + a; }; in s.f 1",
    "({ a ? 1, b ? a * 2, c ? a + b }: c) { a = 10; }",
    "let f = n: { inherit n; next = f (n + 1); }; in (f 0).next.next.n",
    'builtins.concatStringsSep "" (map (x: toString x) [ 1 2 3 ])',
    'builtins.replaceStrings [ "${" ] [ "$" ] "a\\${b}"',
    '"\\${"x"}"',
    "''''${\"x\"}''",
    'let e = ""; in "a${e}b${e}"',
    "builtins.length (builtins.attrNames (builtins.listToAttrs (map (n: { name = toString n; value = n; }) [ 1 2 2 3 3 3 ])))",
)

# ---------------------------------------------------------------------------
section("configuration-like expressions")
case(
    "let mkDb = name: { type = \"postgresql\"; inherit name; user = name; }; in [ (mkDb \"immich\") (mkDb \"gitea\") ]",
    "let mkDb = { name, user ? name, port ? 5432 }: { inherit name user port; }; in map mkDb [ { name = \"a\"; } { name = \"b\"; user = \"u\"; port = 1; } ]",
    "let services = { a = { enable = true; }; b = { enable = false; }; }; in builtins.filter (n: services.${n}.enable) (builtins.attrNames services)",
    "let cfg = { enable = true; dbs = [ \"x\" \"y\" ]; }; in if cfg.enable then map (d: { name = d; }) cfg.dbs else [ ]",
    "let names = [ \"a\" \"b\" ]; in builtins.listToAttrs (map (n: { name = n; value = { enable = true; }; }) names)",
    "let s = { x.enable = true; y.enable = false; }; in builtins.attrNames (builtins.mapAttrs (n: v: v.enable) s)",
    "let base = { port = 5432; host = \"localhost\"; }; in base // { port = 5433; }",
    "let toUpperA = builtins.replaceStrings [ \"a\" ] [ \"A\" ]; in map toUpperA [ \"abc\" \"bca\" ]",
    "let dbs = [ { name = \"a\"; } { name = \"b\"; } ]; in builtins.concatStringsSep \",\" (map (d: d.name) dbs)",
    "let env = { A = \"1\"; B = \"2\"; }; in builtins.concatStringsSep \" \" (builtins.attrValues (builtins.mapAttrs (n: v: \"${n}=${v}\") env))",
    "{ qgroget.server.immich = { enable = true; databases = [ { type = \"postgresql\"; name = \"immich\"; user = \"immich\"; } ]; }; }",
    "let cfg = { immich.enable = true; }; in { inherit (cfg.immich) enable; }",
    "with { enabled = [ \"a\" ]; }; builtins.elem \"a\" enabled && !(builtins.elem \"b\" enabled)",
    "let ports = { postgresql = 5432; redis = 6379; }; t = \"redis\"; in ports.${t}",
    "let ports = { postgresql = 5432; }; t = \"mongodb\"; in ports.${t} or 27017",
    "let opt = c: x: if c then [ x ] else [ ]; in opt true 1 ++ opt false 2",
    "let opts = c: xs: if c then xs else [ ]; in builtins.concatLists [ (opts true [ 1 2 ]) (opts false [ 3 ]) ]",
    "let attrsIf = c: s: if c then s else { }; in { a = 1; } // attrsIf true { b = 2; } // attrsIf false { c = 3; }",
    "let user = \"svc\"; in ''\n  CREATE ROLE ${user};\n  GRANT ALL ON DATABASE ${user} TO ${user};\n''",
)

# ---------------------------------------------------------------------------
section("programmatic: numeric operator table")
NUMS = ["0", "3", "(-7)", "2.5", "(-0.5)"]
NUM_OPS = ["+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!="]
for op in NUM_OPS:
    for a in NUMS:
        for b in NUMS:
            case(f"{a} {op} {b}")

section("programmatic: string operator table")
STRS = ['""', '"a"', '"ab"', '"b"', '"B"']
for op in ["<", "==", "+", ">="]:
    for a in STRS:
        for b in STRS:
            case(f"{a} {op} {b}")

section("programmatic: mixed-type operator table")
MIXED = ['"x"', "null", "true", "[ 1 ]", "{ a = 1; }", "1"]
for op in ["+", "-", "<", "==", "++", "//", "&&"]:
    for a in MIXED:
        for b in MIXED:
            case(f"{a} {op} {b}")

section("programmatic: list comparison table")
LISTS = ["[ ]", "[ 1 ]", "[ 1 2 ]", "[ 2 ]", "[ 1 1 ]", "[ [ 1 ] ]"]
for op in ["<", "=="]:
    for a in LISTS:
        for b in LISTS:
            case(f"{a} {op} {b}")

section("programmatic: builtins over a list table")
LIST_INPUTS = ["[ ]", "[ 1 ]", "[ 3 1 2 ]", '[ "a" "b" ]', "[ [ 1 ] [ ] ]", "[ null true ]"]
for xs in LIST_INPUTS:
    case(
        f"builtins.length {xs}",
        f"builtins.head {xs}",
        f"map (x: [ x ]) {xs}",
        f"builtins.filter (x: x != 1) {xs}",
        f"builtins.elem 1 {xs}",
        f"toString {xs}",
        f"builtins.concatLists (map (x: [ x x ]) {xs})",
        f"{xs} ++ {xs}",
    )

# ---------------------------------------------------------------------------
section("deep and large")


def nested_list(n):
    return "[ " * n + "1" + " ]" * n


def nested_set(n):
    return "".join(f"{{ a{i} = " for i in range(n)) + "1" + "; }" * n


def nested_parens(n):
    return "(" * n + "1" + ")" * n


for n in [10, 100, 300]:
    case(nested_list(n))
    case(nested_set(n))
    case(nested_parens(n))
for n in [10, 100, 500]:
    path = ".".join(f"k{i}" for i in range(n))
    case(f"{{ {path} = 1; }}.{path}")
    case(f"{{ {path} = 1; }}")
for n in [10, 200, 1000]:
    case("[ " + " ".join(str(i) for i in range(n)) + " ]")
    case("{ " + " ".join(f"a{i} = {i};" for i in range(n)) + " }")
    case("builtins.length [ " + " ".join(str(i) for i in range(n)) + " ]")
    case("map (x: x * x) [ " + " ".join(str(i) for i in range(n)) + " ]")
    case(" + ".join(str(i) for i in range(n)))
    case(" + ".join('"a"' for _ in range(n)))
    case(" ++ ".join(f"[ {i} ]" for i in range(n)))
    case(" // ".join(f"{{ a{i % 7} = {i}; }}" for i in range(n)))
for n in [10, 100, 500, 1500]:
    binds = " ".join(f"x{i + 1} = x{i} + 1;" for i in range(n))
    case(f"let x0 = 0; {binds} in x{n}")
for n in [10, 100, 1000]:
    case(f"let sum = n: if n == 0 then 0 else n + sum (n - 1); in sum {n}")
for n in [10, 15, 20, 25]:
    case(f"let fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2); in fib {n}")
for n in [5, 15]:
    case(f"let f = n: if n == 0 then 1 else f (n - 1) + f (n - 1); in f {n}")
case(
    "let range = a: b: if a > b then [ ] else [ a ] ++ range (a + 1) b; in range 1 50",
    "let range = a: b: if a > b then [ ] else [ a ] ++ range (a + 1) b; in builtins.length (range 1 300)",
    "let rev = xs: if xs == [ ] then [ ] else rev (builtins.filter (x: x != builtins.head xs) xs) ++ [ (builtins.head xs) ]; in rev [ 1 2 3 4 5 ]",
    "let count = s: builtins.length (builtins.attrNames s); in count (builtins.listToAttrs (map (i: { name = \"n\" + toString i; value = i; }) [ 1 2 3 4 5 6 7 8 9 10 ]))",
    "let tree = d: if d == 0 then { leaf = true; } else { l = tree (d - 1); r = tree (d - 1); }; in tree 6",
    "let tree = d: if d == 0 then 1 else [ (tree (d - 1)) (tree (d - 1)) ]; in tree 8",
    "let pow = b: e: if e == 0 then 1 else b * pow b (e - 1); in pow 2 62",
    "let pow = b: e: if e == 0 then 1 else b * pow b (e - 1); in pow 2 63",
    "let s = builtins.listToAttrs (map (i: { name = toString i; value = i * 2; }) [ 1 2 3 4 5 6 7 8 9 10 11 12 ]); in s.\"7\"",
    "let deep = n: if n == 0 then { } else { x = deep (n - 1); }; in deep 50",
    "let deep = n: if n == 0 then \"\" else \"a\" + deep (n - 1); in deep 100",
)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "cases.nix-list")
    header = (
        "# Differential test table for tests/differential.rs: one Nix expression per record,\n"
        "# records separated by a line `---`. Records made only of `#` lines are headings.\n"
        "# Generated by tests/differential/generate.py; edit that script, then rerun it."
    )
    seen = set()
    records = [header]
    count = 0
    for c in CASES:
        if not c.startswith("# ") or "\n" in c:
            if c in seen:
                continue
            seen.add(c)
            count += 1
        records.append(c)
    with open(out, "w", encoding="utf-8") as f:
        f.write(("\n" + SEPARATOR + "\n").join(records) + "\n")
    print(f"wrote {count} cases to {out}")


if __name__ == "__main__":
    main()
