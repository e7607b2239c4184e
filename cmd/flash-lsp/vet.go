package main

// isVetInvocation reports whether args are go vet's own (-V=full, -flags, a
// lone *.cfg file).
func isVetInvocation(args []string) bool { return false }

func runVet(args []string) int { return 2 }
