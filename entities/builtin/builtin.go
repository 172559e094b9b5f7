package builtin

import (
	"capsim/entities"
	"capsim/entities/adversary"
	"capsim/entities/echo"
	"capsim/entities/httpdemo"
	"capsim/entities/ping"
	netstackentity "capsim/netstack/entity"
	tlsentity "capsim/tls/entity"
	vfsentity "capsim/vfs/entity"
)

// Registry returns a registry of every built-in program.
func Registry() *entities.Registry {
	r := entities.NewRegistry()
	r.Register(adversary.Program())
	for _, ps := range [][]*entities.Program{echo.Programs(), httpdemo.Programs(), {vfsentity.Program(), netstackentity.Program(), ping.Program(), tlsentity.Program(), tlsentity.PinProgram()}} {
		for _, p := range ps {
			r.Register(p)
		}
	}
	return r
}
