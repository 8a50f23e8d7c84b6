"""livespec.meter: the app's live measurement worker.

Not named ``measure``: ``livespec.measure`` is the API's function (docs/api.md), and a
subpackage of that name would replace it as an attribute of the package once imported.
"""
