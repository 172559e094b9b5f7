// Package entities is the entity runtime: what an entity program links to
// reach the kernel. It opens the kernel socket the kernel handed over as
// descriptor 3, calls servers through channel handles (implementing
// ipc.Caller for generated client proxies), serves requests with an
// ipc.Handler (such as a generated dispatcher), and reads the entity's args,
// env and granted files.
//
// Every request a server receives carries the caller's badge (task, class,
// SID, channel) in its context; a server may hold a request while it serves
// others and reply in any order.
//
// Built-in programs (the capsim binary re-executed as "capsim:NAME") are
// kept in a Registry; the programs themselves live in sub-packages.
package entities
