// Package echo holds the echo example of KasperskyOS as two built-in
// programs: capsim:echo-server serves demo.Echo, capsim:echo-client calls it
// in a loop and prints its median round trip.
package echo
