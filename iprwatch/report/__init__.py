"""The monthly bulletin (统计月报): `iprwatch report`.

What the bulletin says, how it reads the indicators API and how it is laid out live in
`shared.bulletin` (the alerts service mails the same bulletin); here are the command (`cli`)
and the files it writes into its output folder (`render`).
"""
