"""HTTP API of the payments app (Django REST framework).

Views stay thin: parse the request with a serializer, call one function of
:mod:`django_skillswap_payments.services`, serialize the result. Every error
leaves as JSON ``{"error": ..., "message": ...}`` (see :mod:`.errors`).
"""
