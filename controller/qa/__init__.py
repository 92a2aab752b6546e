"""Quality records: the weld record, the QA log and its stores (SQLite, PostgreSQL), exports, and
publishing to an MES."""
