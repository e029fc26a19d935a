// MetalLB's controller for the memory benchmark (bench/metallb.ts builds it).
// v0.16.2 needs github.com/metallb/frr-k8s v0.0.27 and v0.15.2 needs v0.0.20,
// neither served by the Go module proxy; v0.0.21 is, and minimal version
// selection takes it for v0.15.2. Nothing else differs from MetalLB's own
// go.mod.
module ballast.example/bench/metallb

go 1.26

require (
	github.com/metallb/frr-k8s v0.0.21 // indirect
	go.universe.tf/metallb v0.15.2 // indirect
)
