package verify

import (
	"fmt"
	"strings"
)

// The graph is IPC: a path is a chain of edges the policy can grant
// (SCENARIO.md, Properties). Hosts' netstack entities also exchange data
// over the scenario's links, outside the kernel and its policy, so a
// property that holds over IPC may still be broken through the network.
// verify keeps the spec's IPC semantics and says so where it matters: a
// no_path or tcb result that the network could undo carries a caveat.

// linkPeer is a netstack entity and the link that carries its host's
// frames.
type linkPeer struct{ task, link string }

// netstacks returns the netstack task of every host on a link, with the
// link, in link order.
func (g *Graph) netstacks() []linkPeer {
	var out []linkPeer
	for _, l := range g.Scenario.Links {
		for _, h := range l.Hosts {
			if e := g.Scenario.Netstack(h); e != nil && g.tasks[e.Task] != nil {
				out = append(out, linkPeer{e.Task, l.Name})
			}
		}
	}
	return out
}

// networkPath says how data could go from one task to another over a link
// where IPC alone carries none: from reaches (or is) one netstack, and
// another netstack on the same link reaches (or is) to. "" if there is no
// such way.
func (g *Graph) networkPath(from, to string) string {
	return linkHop(g.netstacks(), reachable(g.dataEdges(), from), setOf(g.Influencers(to)), from, to)
}

// linkHop is networkPath on what from reaches (reach) and what reaches to
// (back), each worked out once by the caller.
func linkHop(peers []linkPeer, reach, back map[string]bool, from, to string) string {
	for _, a := range peers {
		if !reach[a.task] {
			continue
		}
		for _, b := range peers {
			if b.link == a.link && b.task != a.task && back[b.task] {
				return fmt.Sprintf("%s reaches %s, and %s reaches %s: link %s carries data between them, which verify does not model (it proves IPC only)",
					from, a.task, b.task, to, a.link)
			}
		}
	}
	return ""
}

// tcbNetworkCaveat names the tasks that could influence the asset over a
// link though IPC gives them no path: those that reach a netstack on the
// same link as a netstack among the asset's influencers.
func (g *Graph) tcbNetworkCaveat(asset string, infl []string) string {
	peers, adj, back := g.netstacks(), g.dataEdges(), setOf(infl)
	var extra []string
	for _, t := range g.Tasks {
		if !back[t.Name] && linkHop(peers, reachable(adj, t.Name), back, t.Name, asset) != "" {
			extra = append(extra, t.Name)
		}
	}
	if len(extra) == 0 {
		return ""
	}
	return fmt.Sprintf("%s may also influence %s over the network, which verify does not model (it proves IPC only)",
		strings.Join(extra, ", "), asset)
}

// reachable is the set of tasks data can reach from from along adj (the
// graph's dataEdges), from included.
func reachable(adj map[string][]*Edge, from string) map[string]bool {
	seen := map[string]bool{from: true}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, e := range adj[cur] {
			if !seen[e.Dst] {
				seen[e.Dst] = true
				queue = append(queue, e.Dst)
			}
		}
	}
	return seen
}

func setOf(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
