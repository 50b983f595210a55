package recovery

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// boltMagic opens every bolt meta page; etcd snapshots are bolt files.
const boltMagic = 0xED0CDAED

// checkBoltShape reads the two bolt meta pages and checks that the file is
// as long as the newest one says. bbolt itself panics in a goroutine of its
// own on a truncated file, which no caller can recover from, so a truncated
// or foreign file must be refused before bbolt opens it.
func checkBoltShape(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	type meta struct {
		pageSize   uint32
		pgid, txid uint64
		ok         bool
	}
	read := func(off int64) meta {
		buf := make([]byte, 80)
		if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
			return meta{}
		}
		le := binary.LittleEndian
		if le.Uint32(buf[16:]) != boltMagic {
			return meta{}
		}
		// page header 16 bytes; meta: magic, version, pageSize, flags (4 each),
		// root bucket (16), freelist (8), pgid (8), txid (8).
		return meta{pageSize: le.Uint32(buf[24:]), pgid: le.Uint64(buf[56:]), txid: le.Uint64(buf[64:]), ok: true}
	}
	m0 := read(0)
	if !m0.ok || m0.pageSize < 512 || m0.pageSize > 1<<20 {
		return fmt.Errorf("it is not an etcd snapshot (no bolt database header)")
	}
	m := m0
	if m1 := read(int64(m0.pageSize)); m1.ok && m1.txid > m0.txid {
		m = m1
	}
	if want := int64(m.pgid) * int64(m.pageSize); fi.Size() < want {
		return fmt.Errorf("it is truncated: its header says %d bytes, the file has %d (an interrupted copy?)", want, fi.Size())
	}
	return nil
}
