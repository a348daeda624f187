"""Which HTML parser with CSS selectors backs assertSelect: speed and correctness.

Candidates: selectolax (Lexbor, an HTML5 parser in C, its own CSS engine),
lxml + cssselect (libxml2's HTML 4 parser, selectors translated to XPath),
BeautifulSoup + soupsieve (pure Python selectors; html.parser, or html5lib
for HTML5 parsing). Run: python bench/html_parsers.py. Prints, per
candidate, the correctness cases it gets right and its time for parsing a
page and running a few selectors, as a ratio to the fastest.
"""
import timeit

CASES = [
    # (name, html, selector, expected texts or attribute values)
    ("brackets in a quoted attribute value",
     '<form><input type="file" name="image[file]"><input name="image[title]"></form>',
     'input[type=file][name="image[file]"]', ["image[file]"]),
    ("HTML5 implied <tbody>", "<table><tr><td>1</td></tr></table>", "table > tbody > tr > td", ["1"]),
    ("HTML5 unclosed <p> and <li>", "<ul><li>a<li>b</ul><p>x<p>y", "ul > li", ["a", "b"]),
    ("custom elements and template content",
     '<turbo-stream action="append" target="photos"><template><li id="p1">x</li></template></turbo-stream>',
     'turbo-stream[action=append][target=photos]', ["append"]),
    ("nth-child and :not", '<ul><li class="a">1</li><li>2</li><li class="a">3</li></ul>',
     "li:nth-child(odd):not(:first-child)", ["3"]),
    ("attribute prefix/contains", '<a href="/photos/1/edit">e</a><a href="/x">x</a>',
     'a[href^="/photos"][href*="edit"]', ["e"]),
]


def page(items: int) -> str:
    rows = "".join(
        f'<article class="photo" id="photo-{n}"><h2>Photo {n}</h2>'
        f'<img class="photo-image" src="/uploads/{n}.png" alt="p{n}"><p>caption {n}<p>more</article>'
        for n in range(items))
    return f"<!doctype html><html><head><title>t</title></head><body><main>{rows}</main>" \
           '<form method="post" enctype="multipart/form-data"><input type="file" name="image[file]"></form></body></html>'


SELECTORS = ["article.photo", "article.photo > img.photo-image[src]", 'input[type=file][name="image[file]"]', "h2"]


def selectolax_run(html, selectors):
    from selectolax.lexbor import LexborHTMLParser
    tree = LexborHTMLParser(html)
    return [[n.text() if n.text() else (n.attributes.get("name") or n.attributes.get("action") or "")
             for n in tree.css(s)] for s in selectors]


def lxml_run(html, selectors):
    import lxml.html
    tree = lxml.html.document_fromstring(html)
    return [[n.text_content() or n.get("name") or n.get("action") or "" for n in tree.cssselect(s)] for s in selectors]


def soup_run(html, selectors, parser="html.parser"):
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(html, parser)
    return [[n.get_text() or n.get("name") or n.get("action") or "" for n in soup.select(s)] for s in selectors]


CANDIDATES = {
    "selectolax (lexbor)": selectolax_run,
    "lxml + cssselect": lxml_run,
    "BeautifulSoup + soupsieve (html.parser)": soup_run,
    "BeautifulSoup + soupsieve (html5lib)": lambda h, s: soup_run(h, s, "html5lib"),
}


def main() -> None:
    html = page(200)
    times = {}
    for name, run in CANDIDATES.items():
        right = []
        for case, snippet, selector, expected in CASES:
            try:
                got = run(snippet, [selector])[0]
            except Exception as error:  # a candidate that raises gets the case wrong
                got = [f"{type(error).__name__}"]
            right.append(got == expected)
            if got != expected:
                print(f"  {name}: {case}: got {got!r}, expected {expected!r}")
        try:
            times[name] = min(timeit.repeat(lambda: run(html, SELECTORS), number=5, repeat=3)) / 5
        except Exception as error:
            times[name] = float("nan")
            print(f"  {name}: {error}")
        print(f"{name}: {sum(right)}/{len(CASES)} correctness cases")
    fastest = min(t for t in times.values() if t == t)
    for name, seconds in sorted(times.items(), key=lambda kv: kv[1]):
        print(f"{name:45} {seconds / fastest:6.1f}x the fastest (200-article page, 4 selectors)")


if __name__ == "__main__":
    main()
