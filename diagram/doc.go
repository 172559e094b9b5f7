// Package diagram draws capsim designs and runs: the architecture of a
// scenario (entities grouped by host, their channels, the calls the policy
// permits on each, a property's trusted base highlighted) from its
// permission graph, and a run as a sequence diagram (calls, replies,
// denials, timing) from its JSON-lines trace. Each has two back ends:
// Mermaid (the default; GitHub renders it) and Graphviz DOT.
package diagram
