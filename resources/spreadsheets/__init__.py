"""The catalogue as a spreadsheet (CSV or XLSX): what information officers share with the other
centres of the network. `columns` names the columns, `help` tells the import page what to upload,
`reading` streams a file's rows within limits, `planning` makes the dry run, `export` writes the
catalogue; the import itself (the write, all or nothing) is `resources.imports`.

Columns — the first row names them. French headers, as in the database the centres of the network
share their records in; English aliases are accepted, and case, accents, spaces and hyphens do not
matter (“Mots-clés” = “mots_cles” = “keywords”). Other columns are ignored.

    column        alias         field                   values
    titre*        title         title
    type*         kind          kind                    livre, périodique, brochure, site web,
                                                        vidéo, logiciel, autre (or book…)
    objectifs*    purposes      purposes                names or short codes, “;” between
    publics       audiences     audiences               names or short codes, “;” between
    auteurs       authors       authors
    editeur       publisher     publisher
    annee         year          year
    langue        language      language                fr, en, it, es, pt, de, autre (or the
                                                        language's name in French or English)
    isbn          —             ISBN                    10 or 13 digits, hyphens allowed
    issn          —             ISSN
    prix          price         price in euros          12.50 or 12,50
    url           web_address   web address
    resume        summary       summary
    mots_cles     keywords      keywords
    avis          opinion       the officer's opinion   staff only
    cote          shelf_mark    shelf mark              at the importing site
    exemplaires   copies        copies                  at the importing site (0 = not held)

    * required columns.

Import. Each row updates the record with the same ISBN, else the same ISSN, else — for rows and
records without ISBN/ISSN — the same title; otherwise it creates a record. So an ISBN is never
catalogued twice, and exporting then importing a file changes nothing. A column that is absent
leaves that field alone; an empty cell empties it, except isbn/issn (never cleared by an import)
and cote + exemplaires both empty (the holding is left alone). Themes belong to each site and are
not in the file. Row numbers count the header as row 1 (blank lines in a CSV are skipped). At
most MAX_ROWS rows are read (reading stops at the next one); the import is all or nothing
(`resources.imports` says how, with short transactions).

Export. The same columns. Any text cell starting with =, +, -, @, a tab or a carriage return is
prefixed with ' so that a spreadsheet never runs it as a formula; the import removes that ' again.
"""

from .columns import COLUMNS, HEADERS, KIND_WORDS
from .export import export_catalogue, export_filename
from .help import UPLOAD_HELP, column_help
from .planning import (
    ERROR,
    NEW,
    SHOWN_ROWS,
    UPDATE,
    ImportPlan,
    PlanSummary,
    RowPlan,
    parse_price,
    plan_import,
)
from .reading import (
    MAX_ROWS,
    SpreadsheetError,
    Table,
    check_file,
    detect_format,
    estimate_rows,
    human_size,
    open_table,
    read_table,
)

__all__ = [
    "COLUMNS",
    "ERROR",
    "HEADERS",
    "KIND_WORDS",
    "MAX_ROWS",
    "NEW",
    "SHOWN_ROWS",
    "UPDATE",
    "UPLOAD_HELP",
    "ImportPlan",
    "PlanSummary",
    "RowPlan",
    "SpreadsheetError",
    "Table",
    "check_file",
    "column_help",
    "detect_format",
    "estimate_rows",
    "export_catalogue",
    "export_filename",
    "human_size",
    "open_table",
    "parse_price",
    "plan_import",
    "read_table",
]
