"""The monthly bulletin (统计月报) of a plan, used by `iprwatch report` and the alerts service.

`model` turns the indicators API's answers into what the bulletin says (pure; its parts:
`text`, `rows`, `figures`, `ranking`), `source` reads them over HTTP, `render` makes the HTML
(Jinja2) and the PDF (WeasyPrint).
"""
