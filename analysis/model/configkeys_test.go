package model

import (
	"reflect"
	"testing"

	"github.com/flash-lsp/flash-lsp/runtime"
)

// Every field of runtime.Config must have a manifest key, or the analysis
// would silently drop it from the manifest and from config_hash.
func TestConfigKeysCoverConfig(t *testing.T) {
	typ := reflect.TypeFor[runtime.Config]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if _, ok := ConfigKeys[f.Name]; !ok {
			t.Errorf("runtime.Config.%s has no manifest key in ConfigKeys", f.Name)
		}
	}
	if len(ConfigKeys) != typ.NumField() {
		t.Errorf("ConfigKeys has %d entries, runtime.Config %d fields", len(ConfigKeys), typ.NumField())
	}
	want := map[string]string{"DiskGB": "diskGb", "Timeout": "timeout", "FlashBoot": "flashboot",
		"DataCenters": "dataCenterIds", "NetworkVolumes": "networkVolumes", "Registry": "registry"}
	for field, key := range want {
		if ConfigKeys[field] != key {
			t.Errorf("ConfigKeys[%s] = %q, want %q", field, ConfigKeys[field], key)
		}
	}
}
