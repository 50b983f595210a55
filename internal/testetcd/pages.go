package testetcd

import (
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// InUsePages lists the pages of the bolt file at path that hold data
// (branch and leaf pages of its buckets): damage to a free page is harmless
// by design, so a test that wants a snapshot to fail verification must aim
// at these.
func InUsePages(t testing.TB, path string) []int64 {
	t.Helper()
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pages []int64
	err = db.View(func(tx *bolt.Tx) error {
		for id := 2; id < int(tx.Size()/int64(db.Info().PageSize)); id++ {
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			if info == nil {
				continue
			}
			if info.Type == "branch" || info.Type == "leaf" {
				for o := 0; o <= info.OverflowCount; o++ {
					pages = append(pages, int64(id+o))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatalf("%s has no data pages", path)
	}
	return pages
}
