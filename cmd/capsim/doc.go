// Command capsim simulates a capability-and-policy microkernel on Linux:
// every entity of a scenario is an isolated process, entities talk only
// through IDL-typed IPC that the simulated kernel carries, and a PSL-like
// policy decides every message.
//
// Usage:
//
//	capsim run SCENARIO   [--trace F] [--pcap F] [--audit F] [--timeout D] [--isolate auto|on|off]
//	                      [--forward 127.0.0.1:PORT=HOST:PORT] [--serve] [--explain] [-v]
//	capsim test [SCENARIO|DIR]...          run scenarios, check expectations, "N passed, N failed"
//	capsim policy test [-I DIR]... FILE    a policy's PAL tests
//	capsim idl gen|check|show ...          code generation, validation, numbering
//	capsim certs ...                       scenario certificates
//	capsim programs                        built-in programs: default class, args, output
//	capsim verify SCENARIO                 prove the scenario's properties from its policy
//	capsim diagram SCENARIO | --trace F    architecture or sequence diagram (Mermaid, DOT)
//
// Exit codes: 0 ok; 1 a check failed (an expectation, a policy test, a
// property); 2 a usage or input error (scenario, IDL and policy errors are
// positioned as file:line:col). Every command has -h with an example.
//
// The binary is also every built-in entity program: the kernel re-executes
// it with argv[0] "capsim:NAME" (and "capsim-trampoline" to confine an
// entity before its program runs).
package main
