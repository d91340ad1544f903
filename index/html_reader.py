"""HTML → blocks: headings, paragraphs, list items, table rows and code, without the page chrome.

When the page marks its content (<main>, role="main", a single <article>), only that is read;
navigation, scripts, forms and footers are dropped wherever they are.
"""

from __future__ import annotations

import codecs
import contextlib
import re

from bs4 import BeautifulSoup, NavigableString, Tag

from acuerdo.index.blocks import Block, BlockKind
from acuerdo.index.loaders import without_controls

_HIDDEN = re.compile(
    r"script|style|nav|noscript|template|head|title|svg|iframe|object|form|button|footer|dialog"
)
_HIDDEN_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "menu", "menubar"})
# Page chrome named by class or id (DocBook's "toc" and "navheader", a CMS's "breadcrumb",
# "site-footer"…): tables of contents and navigation repeat titles the page says below, and as
# passages they are lists of titles that match everything and answer nothing.
_CHROME = re.compile(
    r"toc|table-?of-?contents|(?:site-?|page-?)?(?:header|footer)|nav\w*|\w*-nav(?:bar)?"
    r"|breadcrumbs?|sidebar|menu|skip-?link|pagination|related(?:topics)?",
    re.I,
)
_BLOCKS = re.compile(
    r"p|li|h[1-6]|blockquote|div|tr|section|article|main|header|aside|ul|ol|dl|dt|dd"
    r"|table|pre|figure|figcaption|address|hr|caption|details|summary|fieldset|legend|body"
)
_CELL = "\x00"  # marks a table cell boundary; control characters are removed beforehand


def _decode(data: bytes) -> str:
    """A byte-order mark, else the declared charset, else UTF-8, else Windows-1252: what a
    browser would do (a page saved as "Unicode" by Windows tools is UTF-16 with a BOM)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        with contextlib.suppress(UnicodeDecodeError):  # e.g. cut off mid-character
            return data.decode("utf-16")
    match = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", data[:4096], re.I)
    declared = match.group(1).decode("ascii").lower() if match else ""
    # Browsers read Latin-1/ASCII pages as Windows-1252 (“”, €, —) and a declared UTF-16 as UTF-8.
    latin = re.fullmatch(r"iso[-_]?8859[-_]1|latin[-_]?1|l1|(?:us-)?ascii", declared)
    declared = "cp1252" if latin else "" if declared.startswith("utf-16") else declared
    for encoding in (declared, "utf-8-sig", "cp1252"):
        with contextlib.suppress(LookupError, UnicodeDecodeError):  # "" is no encoding at all
            return data.decode(encoding)
    return data.decode("utf-8", "replace")


def _kind(tag: Tag) -> tuple[BlockKind, int]:
    if re.fullmatch(r"h[1-6]", tag.name):
        return "heading", int(tag.name[1])
    return {"li": "item", "tr": "row", "pre": "code"}.get(tag.name, "paragraph"), 0  # type: ignore[return-value]


def _hidden(tag: Tag) -> bool:
    return (
        bool(_HIDDEN.fullmatch(tag.name))
        or tag.get("role") in _HIDDEN_ROLES
        or tag.get("aria-hidden") == "true"
        or tag.has_attr("hidden")
        or any(_CHROME.fullmatch(name) for name in _names(tag))
    )


def _names(tag: Tag) -> list[str]:
    classes = tag.get("class")
    names = [classes] if isinstance(classes, str) else [str(c) for c in classes or ()]
    identifier = tag.get("id")
    return [*names, identifier] if isinstance(identifier, str) else names


def _content_root(soup: BeautifulSoup) -> Tag:
    main = soup.find("main") or soup.find(role="main")
    if isinstance(main, Tag):
        return main
    articles = soup.find_all("article")
    return articles[0] if len(articles) == 1 else soup


def read_html(name: str, data: bytes) -> tuple[str | None, list[Block]]:
    """Visible text as blocks; <br> is a line break, table cells are joined with " | "."""
    soup = BeautifulSoup(without_controls(_decode(data), line_break=" "), "html.parser")
    heading = soup.title if soup.title and soup.title.get_text().strip() else soup.find("h1")
    title = heading.get_text(" ") if isinstance(heading, Tag) else None
    root = _content_root(soup)
    # One pass in document order (editing the tree is quadratic on deeply nested pages).
    # Per element: (its block's id, hidden, kind, level, inside a row or <pre>).
    Context = tuple[int, bool, BlockKind, int, str]
    context: dict[int, Context] = {id(root): (id(root), False, "paragraph", 0, "")}
    parts: list[tuple[BlockKind, int, list[str]]] = [("paragraph", 0, [])]
    current = id(root)
    for node in root.descendants:
        block, hidden, kind, level, inside = context[id(node.parent)]
        if isinstance(node, Tag):
            hidden = hidden or _hidden(node)
            # Inside a table row everything is one block; inside a list item, only nested items.
            starts = bool(_BLOCKS.fullmatch(node.name)) and (
                not inside or (inside == "li" and node.name == "li")
            )
            if starts:
                kind, level = _kind(node)
                block = id(node)
                current = -1  # the next text starts a new block
                if node.name in ("tr", "li", "pre"):
                    inside = node.name
            context[id(node)] = (block, hidden, kind, level, inside)
            if hidden:
                continue
            if not starts and _BLOCKS.fullmatch(node.name) and block == current:
                parts[-1][2].append(" ")  # <p>uno</p><p>dos</p> in one cell: two words
            elif node.name == "br":
                parts[-1][2].append("\n")
            elif node.name in ("td", "th") and block == current:
                parts[-1][2].append(_CELL)
        elif type(node) is NavigableString and not hidden:  # not comments or doctypes
            if block != current:
                parts.append((kind, level, []))
                current = block
            parts[-1][2].append(str(node) if inside == "pre" else re.sub(r"\s+", " ", node))
    blocks = []
    for kind, level, pieces in parts:
        # A cell marker at the edge of a line has nothing to separate.
        text = re.sub(f"^[{_CELL} ]+|[{_CELL} ]+$", "", "".join(pieces), flags=re.M)
        if text.strip():
            blocks.append(Block(kind, text.replace(_CELL, " | "), level))
    return title, blocks
