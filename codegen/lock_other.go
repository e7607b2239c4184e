//go:build !unix

package codegen

import (
	"errors"
	"io/fs"
	"os"
)

// Without flock, the lock is a file created exclusively beside the lock
// file and removed on unlock.
func openLockFile(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
}

func tryLock(f *os.File) (bool, error) {
	g, err := os.OpenFile(f.Name()+".held", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, g.Close()
}

func unlock(f *os.File) { _ = os.Remove(f.Name() + ".held") }
