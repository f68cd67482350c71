import CNeuralKernels
import Foundation

/// The LSTM cell update after the gate pre-activations are summed, fused into one pass over the state.
///
/// `z` holds 4H pre-activations in PyTorch order (input i, forget f, cell g, output o), each block `stride`
/// apart (H padded to 16). c ← σ(f)·c + σ(i)·tanh(g); h ← σ(o)·tanh(c), written through `h`.
@inline(never)
public func lstmGates(
    _ z: UnsafePointer<Float>, hidden: Int, stride: Int,
    cell c: UnsafeMutablePointer<Float>, output h: UnsafeMutablePointer<Float>
) {
    if sideman_lstm_gates(z, Int32(stride), c, h) == 0 {
        lstmGatesPortable(z, stride: stride, cell: c, output: h)
    }
    // The padding lanes computed σ(0)·tanh(...) of zero pre-activations; clear them so padded vectors stay
    // zero for the next product.
    for k in hidden..<stride {
        c[k] = 0
        h[k] = 0
    }
}

/// The Swift form (AVX2 when built for haswell), used where the CPU has no AVX-512.
@inline(never)
public func lstmGatesPortable(
    _ z: UnsafePointer<Float>, stride: Int, cell c: UnsafeMutablePointer<Float>, output h: UnsafeMutablePointer<Float>
) {
    var j = 0
    while j < stride {
        let i = gateSigmoid16(load16(z + j))
        let f = gateSigmoid16(load16(z + stride + j))
        let g = tanh16(load16(z + 2 * stride + j))
        let o = gateSigmoid16(load16(z + 3 * stride + j))
        let cNew = f * load16(c + j) + i * g
        store16(cNew, c + j)
        store16(o * tanh16(cNew), h + j)
        j &+= 16
    }
}
