"""The tests' helpers: paths, the physics and the station started for a test, the one weld
record factory, the QA log seen from outside, a PostgreSQL server, the tests' own CRC."""
