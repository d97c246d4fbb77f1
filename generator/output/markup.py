"""Text from YAML and Markdown made safe to show, with glossary terms and quoted figures linked.

Raw HTML in Markdown is shown as text (department staff never need it), and the HTML Markdown produces is
sanitised with nh3 (ammonia) before it reaches a page: text from the data never becomes script.
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import markdown
import nh3
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markupsafe import Markup, escape

from generator.checks.tables import Status

ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "b", "i", "a", "blockquote",
    "code", "pre", "br", "hr", "table", "thead", "tbody", "tr", "th", "td", "span", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "class", "data-term", "title"},
    "span": {"class"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "th": {"scope"},
    "ol": {"start"},
    "p": {"id"},
    "li": {"id"},
}


def sanitise(html: str) -> Markup:
    return Markup(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel=None,
            strip_comments=True,
        )
    )


class Glossary:
    """The site's terms as text appears (“三公”经费, 三公经费) → slug, with one pattern matching any of them,
    longest first. One per process; hashable (its hash computed once) so linking can be cached."""

    def __init__(self, terms: dict[str, str]) -> None:
        self.pairs = tuple(sorted(terms.items()))
        self.slugs = dict(self.pairs)
        alternatives = sorted(self.slugs, key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(t) for t in alternatives)) if alternatives else None
        self._hash = hash(self.pairs)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        return self is other or (isinstance(other, Glossary) and self.pairs == other.pairs)


def _anchor(root: str, text: str, slug: str) -> Markup:
    return Markup('<a class="term" href="{}glossary/{}.html" data-term="{}">{}</a>').format(root, slug, slug, text)


@functools.lru_cache(maxsize=1 << 16)
def _link(glossary: Glossary, root: str, text: str, first_only: bool) -> tuple[Markup, tuple[str, ...]]:
    """A text with its terms linked, and the terms it linked. Labels repeat on every page of every department:
    each is linked once per page depth."""
    out, pos, seen = [], 0, []
    for m in glossary.pattern.finditer(text):
        slug = glossary.slugs[m.group(0)]
        if first_only and slug in seen:
            continue
        seen.append(slug)
        out.append(escape(text[pos : m.start()]))
        out.append(_anchor(root, m.group(0), slug))
        pos = m.end()
    out.append(escape(text[pos:]))
    return Markup("").join(out), tuple(seen)


class TermLinker:
    """Links glossary terms in text to their pages, for one page (`root` is the way back to the site root).

    `used` collects the slugs linked on the page, so the page can carry their definitions for the hover/focus
    tooltip, and the glossary can list the pages each term appears on.
    """

    def __init__(self, glossary: Glossary, root: str) -> None:
        self.glossary, self.root = glossary, root
        self.used: set[str] = set()

    def href(self, slug: str) -> str:
        return f"{self.root}glossary/{slug}.html"

    def link(self, text: str, first_only: bool = False) -> Markup:
        """Escaped text with its terms as <a class="term">. In tables every occurrence links."""
        if not self.glossary.pattern or not text:
            return escape(text)
        html, slugs = _link(self.glossary, self.root, text, first_only)
        self.used.update(slugs)
        return html


class _Figures(markdown.treeprocessors.Treeprocessor):
    """Links to 表N/… and 项目/… become links to the cell's row, marked with the check's result."""

    def __init__(self, md, resolve: Callable[[str, str], tuple[str, Status] | None]) -> None:
        super().__init__(md)
        self.resolve = resolve

    def run(self, root: ET.Element) -> None:
        for a in root.iter("a"):
            href = a.get("href", "")
            if re.match(r"^(表\d+|项目)/", href):
                found = self.resolve(href, "".join(a.itertext()))
                if found is None:
                    a.tag = "span"
                    a.attrib.clear()
                    a.set("class", "fig fig-unresolved")
                else:
                    url, status = found
                    a.set("href", url)
                    a.set("class", f"fig fig-{status}")
                    a.set("title", "点击查看表中的这个数字")


class _Terms(markdown.treeprocessors.Treeprocessor):
    """Glossary terms in running text link to their page: the first occurrence in each block."""

    BLOCKS = frozenset({"p", "li", "h2", "h3", "h4", "td", "th", "blockquote"})

    def __init__(self, md, linker: TermLinker) -> None:
        super().__init__(md)
        self.linker = linker

    def run(self, root: ET.Element) -> None:
        for block in list(root.iter()):
            if block.tag in self.BLOCKS:
                self._block(block)

    def _block(self, block: ET.Element) -> None:
        seen: set[str] = set()
        self._text(block, "text", seen)
        for child in list(block):
            if child.tag not in ("a", "code") and child.tag not in self.BLOCKS:
                self._text(child, "text", seen)
            self._tail(block, child, seen)

    def _split(self, text: str, seen: set[str]) -> list[tuple[str, str | None]]:
        pieces: list[tuple[str, str | None]] = []
        pos = 0
        for m in self.linker.glossary.pattern.finditer(text) if self.linker.glossary.pattern else ():
            slug = self.linker.glossary.slugs[m.group(0)]
            if slug in seen:
                continue
            seen.add(slug)
            pieces.append((text[pos : m.start()], None))
            pieces.append((m.group(0), slug))
            pos = m.end()
        pieces.append((text[pos:], None))
        return pieces

    def _text(self, element: ET.Element, _attr: str, seen: set[str]) -> None:
        if not element.text:
            return
        pieces = self._split(element.text, seen)
        if len(pieces) == 1:
            return
        element.text = pieces[0][0]
        anchors = self._anchors(pieces[1:])
        for i, a in enumerate(anchors):
            element.insert(i, a)

    def _tail(self, parent: ET.Element, child: ET.Element, seen: set[str]) -> None:
        if not child.tail:
            return
        pieces = self._split(child.tail, seen)
        if len(pieces) == 1:
            return
        child.tail = pieces[0][0]
        index = list(parent).index(child)
        for i, a in enumerate(self._anchors(pieces[1:])):
            parent.insert(index + 1 + i, a)

    def _anchors(self, pieces: list[tuple[str, str | None]]) -> list[ET.Element]:
        """(term, slug), (text, None), (term, slug), … → <a> elements whose tails carry the plain text."""
        out: list[ET.Element] = []
        for text, slug in pieces:
            if slug is None:
                out[-1].tail = (out[-1].tail or "") + text
                continue
            a = ET.Element("a", {"class": "term", "href": self.linker.href(slug), "data-term": slug})
            a.text = text
            self.linker.used.add(slug)
            out.append(a)
        return out


def text_blocks(root: ET.Element) -> list[tuple[str, ET.Element]]:
    """The paragraphs and list items of a document in reading order, each with the heading it sits under.

    The narrative page gives them ids p-1, p-2, … and the search index links to the same ids: one definition.
    """
    out, heading = [], ""
    for element in root.iter():
        if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            heading = "".join(element.itertext()).strip()
        elif element.tag == "p" or (element.tag == "li" and element.find("p") is None):
            out.append((heading, element))
    return out


class _Ids(markdown.treeprocessors.Treeprocessor):
    def run(self, root: ET.Element) -> None:
        for i, (_, element) in enumerate(text_blocks(root), start=1):
            element.set("id", f"p-{i}")


class _Capture(markdown.treeprocessors.Treeprocessor):
    """Reads each block's text from the finished tree (it runs after the inline patterns and the links)."""

    def run(self, root: ET.Element) -> None:
        self.md.blocks = [(heading, "".join(element.itertext()).strip()) for heading, element in text_blocks(root)]


class _Extension(markdown.Extension):
    def __init__(self, linker: TermLinker | None, resolve, capture: bool = False) -> None:
        super().__init__()
        self.linker, self.resolve, self.capture = linker, resolve, capture

    def extendMarkdown(self, md) -> None:
        # Raw HTML is shown as text: department text never carries markup of its own.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_Ids(md), "block-ids", 6)
        if self.resolve is not None:
            md.treeprocessors.register(_Figures(md, self.resolve), "figures", 5)
        if self.linker is not None:
            md.treeprocessors.register(_Terms(md, self.linker), "terms", 4)
        if self.capture:
            md.treeprocessors.register(_Capture(md), "capture", 0)


_CONVERTERS: dict[tuple[bool, bool, bool], markdown.Markdown] = {}


def _markdown(linker: TermLinker | None, resolve, capture: bool = False) -> markdown.Markdown:
    """A converter with our extension, made once per kind and reused (Markdown.reset between documents, as
    Python-Markdown provides for): making one compiles all its patterns again, and a build converts a glossary's
    worth of texts in every process."""
    key = (linker is not None, resolve is not None, capture)
    md = _CONVERTERS.get(key)
    if md is None:
        # The extensions as objects, not by name: a name is looked up among the installed packages' entry points,
        # for which importlib.metadata reads every package's metadata.
        extensions = [TableExtension(), SaneListExtension(), _Extension(linker, resolve, capture)]
        md = _CONVERTERS[key] = markdown.Markdown(extensions=extensions, output_format="html")
    else:
        md.reset()
    if linker is not None:
        md.treeprocessors["terms"].linker = linker
    if resolve is not None:
        md.treeprocessors["figures"].resolve = resolve
    return md


def render_markdown(text: str, linker: TermLinker | None = None, resolve=None) -> Markup:
    if linker is not None and resolve is None:  # glossary definitions, content pages: the same on many pages
        html, slugs = _markdown_linked(linker.glossary, linker.root, text)
        linker.used.update(slugs)
        return html
    md = _markdown(linker, resolve, capture=True)
    html = sanitise(md.convert(text))
    if len(_BLOCKS) > 8:
        _BLOCKS.clear()
    _BLOCKS[text] = md.blocks  # the narrative's search documents are made of the same blocks: parsed once
    return html


_BLOCKS: dict[str, list[tuple[str, str]]] = {}  # text → markdown_blocks(text), as render_markdown found them


@functools.lru_cache(maxsize=4096)
def _markdown_linked(glossary: Glossary, root: str, text: str) -> tuple[Markup, tuple[str, ...]]:
    linker = TermLinker(glossary, root)
    html = sanitise(_markdown(linker, None).convert(text))
    return html, tuple(sorted(linker.used))


def markdown_blocks(text: str) -> list[tuple[str, str]]:
    """(heading, plain text) of each paragraph and list item, numbered as render_markdown numbers them."""
    if text in _BLOCKS:
        return _BLOCKS[text]
    md = _markdown(None, None, capture=True)
    md.convert(text)
    return md.blocks


def plain_text(markdown_text: str) -> str:
    """Markdown as the words a reader sees: no markup, links as their text."""
    return " ".join(text for _, text in markdown_blocks(markdown_text)) or markdown_text.strip()


def paragraphs(text: str, linker: TermLinker | None = None) -> Markup:
    """Plain text from YAML (line breaks kept) as safe HTML paragraphs, terms linked once per paragraph."""
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    out = []
    for block in blocks:
        lines = [linker.link(line, first_only=True) if linker else escape(line) for line in block.splitlines()]
        out.append(Markup("<p>") + Markup("<br>").join(lines) + Markup("</p>"))
    return Markup("\n").join(out)
