"""Files build_zipapp.py packs at the root of memos.pyz: its start-up, run before any dependency is unpacked."""
