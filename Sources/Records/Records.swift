// The Records target; see README.md for its place in the data flow.
