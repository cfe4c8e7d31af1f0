import CDNNL
import Foundation

// oneDNN (Debian's libdnnl 2.6) as the Tensor target uses it: one CPU engine and stream, memory
// objects over our own buffers or over workspace memory in its blocked layouts, reorders between
// the two, and the thread count of its OpenMP runtime.
//
// Why the wrapping: our tensors are plain NCHW float32 arrays, and oneDNN's fast convolution
// kernels want blocked layouts (nChw16c and friends, chosen by the primitive). Every call
// therefore reorders its inputs into the primitive's layouts and its output back, in staging
// buffers of a reused workspace (`OneDNNWorkspace`, at the end of this file). Outputs
// that are gradients are added into ours by the reorder itself (a sum post-op), since gradients
// accumulate.
//
// Every primitive is made with a user-managed scratchpad, passed to each call. oneDNN's default
// ("library") scratchpad is global per thread: a primitive made on one thread and run on
// another (a plan cached by the test thread and used by `smis serve`'s model thread, say) finds
// no scratchpad there and its kernel writes through a null pointer (seen as a crash in the
// serve tests under TENSOR_CONVOLUTION=auto; oneDNN issues #572 and #1385).

/// oneDNN's engine and stream, created once. Nil when oneDNN cannot make a CPU engine.
final class OneDNNRuntime: @unchecked Sendable {
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t

    static let shared: OneDNNRuntime? = OneDNNRuntime()

    private init?() {
        var engine: dnnl_engine_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success, let engine else { return nil }
        var stream: dnnl_stream_t?
        guard dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success, let stream else {
            dnnl_engine_destroy(engine)
            return nil
        }
        (self.engine, self.stream) = (engine, stream)
    }

    /// Whether oneDNN runs its bfloat16 kernels on this CPU (AVX512-BF16 or newer).
    static var supportsBFloat16: Bool {
        dnnl_get_effective_cpu_isa().rawValue & dnnl_cpu_isa_avx512_core_bf16.rawValue
            == dnnl_cpu_isa_avx512_core_bf16.rawValue
    }

    /// Runs a primitive on the stream with `TensorThreads.count` OpenMP threads and waits for it.
    /// Returns false if oneDNN reports an error.
    func execute(_ primitive: dnnl_primitive_t, _ arguments: [dnnl_exec_arg_t]) -> Bool {
        // The count is a per-thread OpenMP setting: set it on the calling thread every time.
        if omp_get_max_threads() != Int32(TensorThreads.count) { omp_set_num_threads(Int32(TensorThreads.count)) }
        return arguments.withUnsafeBufferPointer { arguments in
            dnnl_primitive_execute(primitive, stream, Int32(arguments.count), arguments.baseAddress) == dnnl_success
        } && dnnl_stream_wait(stream) == dnnl_success
    }
}

/// A primitive descriptor and its primitive, destroyed together.
final class OneDNNPrimitive {
    let descriptor: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t
    /// The scratch memory each call needs (the attributes ask for a user-managed scratchpad),
    /// nil when it needs none.
    let scratchpad: dnnl_memory_desc_t?

    /// Takes ownership of both.
    init(owning descriptor: dnnl_primitive_desc_t, _ primitive: dnnl_primitive_t) {
        (self.descriptor, self.primitive) = (descriptor, primitive)
        let scratchpad = dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0)?.pointee
        self.scratchpad = scratchpad.flatMap { OneDNNMemory.size($0) > 0 ? $0 : nil }
    }

    /// New primitive attributes with a user-managed scratchpad (see the top of this file); the
    /// caller destroys them.
    static func attributes() -> dnnl_primitive_attr_t? {
        var attributes: dnnl_primitive_attr_t?
        guard dnnl_primitive_attr_create(&attributes) == dnnl_success, let attributes else { return nil }
        guard dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user) == dnnl_success else {
            dnnl_primitive_attr_destroy(attributes)
            return nil
        }
        return attributes
    }

    /// Makes the primitive for an operation descriptor (`operation` points to a
    /// `dnnl_convolution_desc_t`, for instance); nil when oneDNN has no implementation for it.
    static func make(
        _ operation: UnsafeRawPointer, hint: OneDNNPrimitive? = nil, runtime: OneDNNRuntime
    )
        -> OneDNNPrimitive?
    {
        guard let attributes = attributes() else { return nil }
        defer { dnnl_primitive_attr_destroy(attributes) }
        var descriptor: dnnl_primitive_desc_t?
        guard
            dnnl_primitive_desc_create(&descriptor, operation, attributes, runtime.engine, hint?.descriptor)
                == dnnl_success, let descriptor
        else { return nil }
        return adopt(descriptor)
    }

    /// The primitive of a descriptor made elsewhere (reorders), owning both; nil on failure.
    static func adopt(_ descriptor: dnnl_primitive_desc_t) -> OneDNNPrimitive? {
        var primitive: dnnl_primitive_t?
        guard dnnl_primitive_create(&primitive, descriptor) == dnnl_success, let primitive else {
            dnnl_primitive_desc_destroy(descriptor)
            return nil
        }
        return OneDNNPrimitive(owning: descriptor, primitive)
    }

    deinit {
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(descriptor)
    }

    /// The memory layout the primitive chose for one of its arguments.
    func memory(_ query: dnnl_query_t) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(descriptor, query, 0).pointee
    }

    /// The implementation oneDNN picked (e.g. `jit:avx512_core`, `jit_wino_4x3:avx512_core`).
    var implementation: String {
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &name) == dnnl_success,
            let name
        else { return "?" }
        return String(cString: name)
    }
}

/// A reorder from one layout to another, optionally adding into the destination.
final class OneDNNReorder {
    let from: dnnl_memory_desc_t
    let to: dnnl_memory_desc_t
    let primitive: OneDNNPrimitive

    init?(from: dnnl_memory_desc_t, to: dnnl_memory_desc_t, accumulate: Bool, runtime: OneDNNRuntime) {
        (self.from, self.to) = (from, to)
        guard let attributes = OneDNNPrimitive.attributes() else { return nil }
        defer { dnnl_primitive_attr_destroy(attributes) }
        if accumulate {
            var postOperations: dnnl_post_ops_t?
            guard dnnl_post_ops_create(&postOperations) == dnnl_success, let postOperations else { return nil }
            defer { dnnl_post_ops_destroy(postOperations) }
            guard dnnl_post_ops_append_sum(postOperations, 1) == dnnl_success,
                dnnl_primitive_attr_set_post_ops(attributes, postOperations) == dnnl_success
            else { return nil }
        }
        var descriptor: dnnl_primitive_desc_t?
        var (source, target) = (from, to)
        guard
            dnnl_reorder_primitive_desc_create(
                &descriptor, &source, runtime.engine, &target, runtime.engine, attributes) == dnnl_success,
            let descriptor
        else { return nil }
        guard let primitive = OneDNNPrimitive.adopt(descriptor) else { return nil }
        self.primitive = primitive
    }
}

/// Memory descriptors and memory objects.
enum OneDNNMemory {
    /// A dense descriptor in a named layout (`dnnl_nchw`, `dnnl_goihw`, or `dnnl_format_tag_any`
    /// to let a primitive choose).
    static func descriptor(
        _ dimensions: [Int], _ type: dnnl_data_type_t, _ tag: dnnl_format_tag_t
    )
        -> dnnl_memory_desc_t?
    {
        var descriptor = dnnl_memory_desc_t()
        let extents = dimensions.map(Int64.init)
        guard dnnl_memory_desc_init_by_tag(&descriptor, Int32(extents.count), extents, type, tag) == dnnl_success
        else { return nil }
        return descriptor
    }

    /// A plain descriptor with explicit strides (elements), for one group's channels of a tensor.
    static func descriptor(_ dimensions: [Int], strides: [Int], _ type: dnnl_data_type_t) -> dnnl_memory_desc_t? {
        var descriptor = dnnl_memory_desc_t()
        let extents = dimensions.map(Int64.init), steps = strides.map(Int64.init)
        guard dnnl_memory_desc_init_by_strides(&descriptor, Int32(extents.count), extents, type, steps) == dnnl_success
        else { return nil }
        return descriptor
    }

    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var (a, b) = (a, b)
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    static func size(_ descriptor: dnnl_memory_desc_t) -> Int {
        var descriptor = descriptor
        return Int(dnnl_memory_desc_get_size(&descriptor))
    }
}

/// A memory object over a caller's buffer or over storage oneDNN allocates, destroyed with it.
final class OneDNNBuffer {
    let memory: dnnl_memory_t

    /// Wraps `pointer` (not owned), or allocates when `pointer` is nil. Nil on failure.
    init?(_ descriptor: dnnl_memory_desc_t, pointer: UnsafeMutableRawPointer?, runtime: OneDNNRuntime) {
        var descriptor = descriptor
        var memory: dnnl_memory_t?
        let handle = pointer ?? UnsafeMutableRawPointer(bitPattern: -1)  // DNNL_MEMORY_ALLOCATE
        guard dnnl_memory_create(&memory, &descriptor, runtime.engine, handle) == dnnl_success, let memory else {
            return nil
        }
        self.memory = memory
    }

    deinit { dnnl_memory_destroy(memory) }
}

/// Scratch memory for oneDNN calls, kept from call to call: the staging buffers in the
/// primitives' layouts and their scratchpads (user-managed, see the top of this file). Each slot
/// grows to the largest size asked of it and stays, so oneDNN's share of memory is one call's
/// largest needs, known and bounded (large planes run one sample per call, so that is one
/// sample's: see `OneDNNConvolution.samplesPerCall`), and a call allocates nothing.
/// One workspace serves one call at a time; ``acquire()`` hands concurrent callers their own.
final class OneDNNWorkspace: @unchecked Sendable {
    /// What a slot holds during one call.
    enum Slot: Int, CaseIterable {
        case firstInput, secondInput, output, scratchpad, reorderScratchpad
    }

    private var buffers = [UnsafeMutableRawPointer?](repeating: nil, count: Slot.allCases.count)
    private var capacities = [Int](repeating: 0, count: Slot.allCases.count)

    /// At least `bytes` bytes, page-aligned, for `slot` (valid until the slot is asked again).
    func memory(_ slot: Slot, bytes: Int) -> UnsafeMutableRawPointer {
        let index = slot.rawValue
        if capacities[index] < bytes || buffers[index] == nil {
            free(buffers[index])
            var pointer: UnsafeMutableRawPointer?
            guard posix_memalign(&pointer, 4096, max(bytes, 64)) == 0, let pointer else {
                preconditionFailure("oneDNN: cannot allocate \(bytes) bytes of workspace")
            }
            (buffers[index], capacities[index]) = (pointer, bytes)
        }
        return buffers[index]!
    }

    deinit { buffers.forEach { free($0) } }

    nonisolated(unsafe) private static var idle: [OneDNNWorkspace] = []
    private static let idleLock = NSLock()

    /// A workspace no other call is using; give it back with ``release(_:)``.
    static func acquire() -> OneDNNWorkspace {
        idleLock.lock()
        defer { idleLock.unlock() }
        return idle.popLast() ?? OneDNNWorkspace()
    }

    static func release(_ workspace: OneDNNWorkspace) {
        idleLock.lock()
        defer { idleLock.unlock() }
        idle.append(workspace)
    }
}
