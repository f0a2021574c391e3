"""Finishing a letter's PDF structure before WeasyPrint writes it: header-cell scopes, PDF/UA in PDF/A.

WeasyPrint 70 reads `<th scope>` to link data cells to their headers but writes no /Scope on the
header cells, which PDF/UA-1 asks for (its issue #2508); and an archival (PDF/A-3b) file names only
PDF/A in its XMP metadata. Both are put right in WeasyPrint's `finisher` hook, on the objects it is
about to write: no second parse of the PDF, so a letter costs a fraction of a millisecond more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

PDFUA_PART = 1

_SCOPES = {"row": "/Row", "rowgroup": "/Row", "col": "/Column", "colgroup": "/Column", "both": "/Both"}

_PDFUA_XMP = b"""<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
 xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
<pdfaProperty:name>part</pdfaProperty:name>
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>
<pdfaProperty:category>internal</pdfaProperty:category>
<pdfaProperty:description>Indicates which part of ISO 14289 the file conforms to</pdfaProperty:description>
</rdf:li></rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" pdfuaid:part="%d"/>
""" % PDFUA_PART


def _boxes(document: Any) -> Iterator[Any]:
    for page in document.pages:
        yield from page._page_box.descendants()


def scope_header_cells(document: Any) -> int:
    """Give every table header cell's structure element a /Scope from its `scope` attribute (a
    header cell without one is a column header, as WeasyPrint links it). Returns how many."""
    import pydyf

    count = 0
    for box in _boxes(document):
        mark = getattr(box, "mark", None)
        if mark is None or getattr(box, "element_tag", None) != "th":
            continue
        scope = (box.element.attrib.get("scope") or "col").lower() if box.element is not None else "col"
        attributes = mark.get("A")
        if attributes is None:
            attributes = mark["A"] = pydyf.Dictionary({"O": "/Table"})
        attributes["Scope"] = _SCOPES.get(scope, "/Column")
        count += 1
    return count


def declare_pdfua(pdf: Any) -> bool:
    """Add the PDF/UA-1 identifier (and the PDF/A extension schema that declares it) to the XMP
    metadata WeasyPrint made for a PDF/A file, so it says it is both. False if it has none."""
    reference = pdf.catalog.get("Metadata")
    if reference is None:
        return False
    stream = pdf.objects[int(reference.split()[0])]
    content = b"".join(part if isinstance(part, bytes) else str(part).encode() for part in stream.stream)
    if b"pdfuaid:part" in content or b"</rdf:RDF>" not in content:
        return b"pdfuaid:part" in content
    stream.stream = [content.replace(b"</rdf:RDF>", _PDFUA_XMP + b"</rdf:RDF>", 1)]
    return True


def finish_structure(archival: bool) -> Callable[[Any, Any], None]:
    """WeasyPrint's `finisher` for a letter: header-cell scopes, and PDF/UA declared in PDF/A."""

    def finish(document: Any, pdf: Any) -> None:
        scope_header_cells(document)
        if archival:
            declare_pdfua(pdf)

    return finish
