// The command-line tool's logic, kept in a library so that tests can drive it.
