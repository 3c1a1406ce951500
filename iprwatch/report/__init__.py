"""The monthly bulletin (统计月报): `iprwatch report`.

`model` turns the indicators API's answers into what the bulletin says (pure), `source` reads
them over HTTP, `render` writes the HTML (Jinja2) and the PDF (WeasyPrint), `cli` is the
command.
"""
