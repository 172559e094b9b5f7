package scenario

import (
	"net/netip"
	"time"

	"capsim/diag"
)

// Node records where an element of the scenario was written: Pos is its
// table header, or the start of its inline table, and KeyPos gives the line
// of each key it holds, so that callers (which check classes, IDL and
// policy files) report their errors at the right line.
type Node struct {
	Pos  diag.Pos
	keys map[string]diag.Pos
	bad  map[string]bool // keys whose value did not decode
}

// KeyPos returns where key was written in this element, or the element's
// own position when the key is absent.
func (n *Node) KeyPos(key string) diag.Pos {
	if p, ok := n.keys[key]; ok {
		return p
	}
	return n.Pos
}

// Has reports whether key was written in this element.
func (n *Node) Has(key string) bool {
	_, ok := n.keys[key]
	return ok
}

// given reports whether key was written with a value that decoded; the
// loader applies defaults to the others, so that one bad value is reported
// once and does not cascade into range errors.
func (n *Node) given(key string) bool { return n.Has(key) && !n.bad[key] }

// badValue reports whether key was written with a value that did not
// decode: a check that the key is missing or empty would repeat that error.
func (n *Node) badValue(key string) bool { return n.bad[key] }

func (n *Node) node() *Node { return n }

// Defaults applied by the loader.
const (
	DefaultTimeout      = 60 * time.Second
	DefaultSeed         = 1
	DefaultMTU          = 1500
	DefaultInflight     = 64
	DefaultQueued       = Size(4 << 20)
	DefaultMessage      = Size(4 << 20)
	DefaultHandles      = 4096
	DefaultRestartLimit = 3
)

// Scenario is one scenario file: what capsim run, test, verify and diagram
// read. Dir and File are set by Load; every other field comes from the file
// with the loader's defaults applied.
type Scenario struct {
	Node
	Dir  string `toml:"-"` // the scenario folder
	File string `toml:"-"` // the TOML file, as given or Dir/scenario.toml

	Name        string        `toml:"name"` // default: the folder's name
	Description string        `toml:"description"`
	Policy      string        `toml:"policy"`   // relative to Dir; "" runs under the scenario's allow-list
	IDLPath     []string      `toml:"idl_path"` // relative to Dir
	Timeout     time.Duration `toml:"timeout"`  // default 60s
	Seed        int64         `toml:"seed"`     // default 1
	Certs       []Cert        `toml:"certs"`

	Hosts      []Host     `toml:"host"`
	Entities   []Entity   `toml:"entity"`
	Links      []Link     `toml:"link"`
	Forwards   []Forward  `toml:"forward"`
	Egress     []Egress   `toml:"egress"`
	Expects    []Expect   `toml:"expect"`
	Properties []Property `toml:"property"`
}

// Entity is one [[entity]]: a task, an instance of an entity class.
type Entity struct {
	Node
	Task        string            `toml:"task"`
	Class       string            `toml:"class"`
	Program     string            `toml:"program"` // "" is the class's built-in program
	Host        string            `toml:"host"`
	Args        []string          `toml:"args"`
	Env         map[string]string `toml:"env"`
	Connections []Connection      `toml:"connections"`
	// Main is nil when unset; see Scenario.MainTasks.
	Main         *bool   `toml:"main"`
	Restart      Restart `toml:"restart"`       // default "never"
	RestartLimit int     `toml:"restart_limit"` // default 3
	Limits       Limits  `toml:"limits"`
	Mounts       []Mount `toml:"mounts"`
}

// Restart is an entity's restart policy.
type Restart string

// Restart policies.
const (
	RestartNever     Restart = "never"
	RestartOnFailure Restart = "on-failure"
)

// Connection gives the client a channel to Target under the name ID.
type Connection struct {
	Node
	Target string `toml:"target"`
	ID     string `toml:"id"`
}

// Limits bound what one entity costs the kernel. The loader fills the
// defaults: Inflight 64, Queued and Message 4 MiB, Handles 4096; Memory and
// CPU zero mean no limit.
type Limits struct {
	Node
	Inflight int   `toml:"inflight"`
	Queued   Size  `toml:"queued"`
	Message  Size  `toml:"message"`
	Handles  int   `toml:"handles"`
	Memory   Size  `toml:"memory"`
	CPU      Ratio `toml:"cpu"` // 0.5 is half a CPU
}

// Mount is one file system of a VFS entity.
type Mount struct {
	Node
	Path   string `toml:"path"`   // absolute path inside the VFS
	FS     string `toml:"fs"`     // ramfs, romfs or hostdir
	Size   Size   `toml:"size"`   // ramfs only; 0 is unbounded
	Source string `toml:"source"` // romfs: a folder relative to Dir; hostdir: a folder
	Mode   string `toml:"mode"`   // ro or rw; default rw for ramfs, ro otherwise
}

// File system kinds of a Mount.
const (
	FSRamfs   = "ramfs"
	FSRomfs   = "romfs"
	FSHostdir = "hostdir"
)

// Host is one simulated machine.
type Host struct {
	Node
	Name      string         `toml:"name"`
	Addresses []netip.Prefix `toml:"addresses"`
	Routes    []Route        `toml:"routes"` // default: the connected subnets
}

// Route sends traffic for To through the gateway Via.
type Route struct {
	Node
	To  netip.Prefix `toml:"to"`
	Via netip.Addr   `toml:"via"`
}

// Link is a segment: a switch joining two or more hosts, with impairments.
type Link struct {
	Node
	Name      string        `toml:"name"`
	Hosts     []string      `toml:"hosts"`
	MTU       int           `toml:"mtu"` // default 1500
	Loss      Ratio         `toml:"loss"`
	Delay     time.Duration `toml:"delay"`
	Jitter    time.Duration `toml:"jitter"`
	Reorder   Ratio         `toml:"reorder"`
	Duplicate Ratio         `toml:"duplicate"`
	Rate      Rate          `toml:"rate"` // 0 is unlimited
	Schedule  []LinkEvent   `toml:"schedule"`
}

// LinkEvent partitions or heals a link at a time after the start.
type LinkEvent struct {
	Node
	At time.Duration `toml:"at"`
	Do string        `toml:"do"` // "partition" or "heal"
}

// Forward carries a real loopback port to a simulated host's port.
type Forward struct {
	Node
	Listen netip.AddrPort `toml:"listen"` // loopback only
	To     HostPort       `toml:"to"`
}

// Egress lets simulated hosts reach a real loopback service.
type Egress struct {
	Node
	Hosts   []string       `toml:"hosts"`
	Address netip.AddrPort `toml:"address"` // what the simulated client dials
	To      netip.AddrPort `toml:"to"`      // loopback only
}

// Cert is one key pair signed by the scenario's CA (or the other CA).
type Cert struct {
	Node
	Name      string        `toml:"name"`
	Hosts     []string      `toml:"hosts"`
	NotAfter  time.Duration `toml:"not_after"`  // offset from now; see Has("not_after")
	NotBefore time.Duration `toml:"not_before"` // offset from now; see Has("not_before")
	Issuer    string        `toml:"issuer"`     // "" (the scenario CA) or "other"
	Revoked   bool          `toml:"revoked"`
	Usage     string        `toml:"usage"` // "" (server and client), "server" or "client"
}

// Property is a security goal that capsim verify proves from the policy.
// Exactly one of its four kinds is set.
type Property struct {
	Node
	Name        string       `toml:"name"`
	OnlyThrough *OnlyThrough `toml:"only_through"`
	NoPath      *NoPath      `toml:"no_path"`
	Calls       *Calls       `toml:"calls"`
	TCB         *TCB         `toml:"tcb"`
}

// OnlyThrough: every path from From to To passes through one of Via.
type OnlyThrough struct {
	Node
	From string   `toml:"from"`
	To   string   `toml:"to"`
	Via  []string `toml:"via"`
}

// NoPath: no path leads from From to To.
type NoPath struct {
	Node
	From string `toml:"from"`
	To   string `toml:"to"`
}

// Calls: From may call on To only what Allow lists ("endpoint.method",
// "endpoint.*").
type Calls struct {
	Node
	From  string   `toml:"from"`
	To    string   `toml:"to"`
	Allow []string `toml:"allow"`
}

// TCB: the entities that can influence Asset are exactly Expect.
type TCB struct {
	Node
	Asset  string   `toml:"asset"`
	Expect []string `toml:"expect"`
}
