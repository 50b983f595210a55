package portcheck

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// Free binds host:port without SO_REUSEPORT: that fails whenever any
// process listens there, which is what the check wants to know. setting is
// the configuration field that chose the address, for the message.
func Free(host string, port int, setting string) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err == nil {
		return l.Close()
	}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("%s is in use by another process (%s): stop it (find it with `ss -ltnp 'sport = :%d'`) or change %s", addr, setting, port, setting)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("%s is not an address of this node: fix apiServer.advertiseAddress", host)
	}
	return fmt.Errorf("binding %s: %w", addr, err)
}
