"""Evidence the vendor can check: the signing key (``signing.py``) and the daemon's day and month closes
(``closes.py``). The chain itself is the store's (``storage/chain.py``, ``storage/verify.py``)."""
