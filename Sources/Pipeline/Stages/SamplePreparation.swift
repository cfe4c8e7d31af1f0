import ImageIO

/// A sample that passed every stage: what the writer writes and observers (statistics) see.
public struct PreparedSample: Sendable {
    /// Relative stem, e.g. `WOMEN/Dresses/id_00000002/02_1_front`.
    public let stem: String
    /// Output file stem, e.g. `WOMEN-Dresses-id_00000002-02_1_front`.
    public let flatStem: String
    public let split: DataSplit
    /// The photo at the training size.
    public let photo: Image
    /// Target class ids at the training size.
    public let label: LabelMap
    /// Instance ids at the training size, for a data set with instance maps (Cityscapes).
    public var instances: InstanceMap? = nil
    /// Per target class: pixel count and bounding box at the training size.
    public let parts: [ClassPart]
    /// Source-value histogram of the full-size label map, before remapping.
    public let sourceHistogram: LabelHistogram
}

/// The chain of pure stages for one decoded sample: partition, check, filter, remap, resize,
/// split. No files and no threads: the runner decodes and writes around it.
public struct SamplePreparation: Sendable {
    public let check: SampleCheck
    public let filter: RareAttributeFilter
    public let remap: LabelRemap
    /// The resize of validation samples, and of training samples unless `trainResize` is set.
    public let resize: SampleResize
    /// The resize of training samples when their size differs (`resize.train-size`).
    public let trainResize: SampleResize?
    public let partitioner: Partitioner
    public let classCount: Int
    /// Whether stems start with the data set's split folder, which flat stems leave out.
    public let dropsSplitFolder: Bool

    public init(configuration: PipelineConfiguration, partitionList: EvalPartitionList?) {
        check = SampleCheck(source: configuration.source, ignore: configuration.ignore)
        filter = configuration.filter
        remap = LabelRemap(classMapping: configuration.classMapping, ignore: configuration.ignore)
        let background = configuration.classMapping.targets.id(named: "background") ?? 0
        resize = SampleResize(settings: configuration.resize, padLabel: UInt8(background))
        trainResize = configuration.resize.trainSize.map { size in
            var settings = configuration.resize
            settings.size = size
            return SampleResize(settings: settings, padLabel: UInt8(background))
        }
        let folders = configuration.partition.folders
        partitioner = Partitioner(
            list: partitionList, validationFraction: configuration.partition.validationFraction,
            folders: Dictionary(folders.map { ($0.folder, $0.split) }, uniquingKeysWith: { first, _ in first }))
        classCount = configuration.classMapping.targets.count
        dropsSplitFolder = !folders.isEmpty
    }

    /// What happens to one sample.
    public enum Outcome: Sendable {
        case kept(PreparedSample)
        case dropped(DropReason)
    }

    /// Runs every stage in order on decoded values, the partition first; the first that
    /// refuses decides the reason. `scratch` holds the calling thread's reusable buffers (nil
    /// allocates afresh).
    public func prepare(stem: String, photo: Image, label: LabelMap, scratch: ResizeScratch? = nil) -> Outcome {
        guard let split = partitioner.split(forStem: stem) else { return .dropped(.notInPartitionList) }
        do {
            return try prepare(
                stem: stem, split: split, photo: PhotoInput(photo), label: LabelInput(label), scratch: scratch)
        } catch {
            preconditionFailure("a decoded photo cannot fail to decode: \(error)")
        }
    }

    /// Runs the stages after the partition, in order, on a sample whose side the caller has
    /// looked up (`partitioner`: before opening its files, so that an unlisted photo is never
    /// decoded) and whose photo is decoded on demand. Throws the photo's decoding error: the
    /// photo is checked (`PhotoInput.checkDecodes()`) before any later stage drops the sample,
    /// so a broken photo is reported as such whatever else is wrong (decode and check come
    /// first).
    ///
    /// `instances`, the sample's instance map when the data set has them, must have the label
    /// map's size (else the sample is dropped); it is resized as the label map is.
    public func prepare(
        stem: String, split: DataSplit, photo: PhotoInput, label input: LabelInput, instances: InstanceMap? = nil,
        scratch: ResizeScratch? = nil
    ) throws -> Outcome {
        let label = input.map, histogram = input.histogram
        if let problem = check.problem(
            photoWidth: photo.width, photoHeight: photo.height, label: label, histogram: histogram) {
            try photo.checkDecodes()
            return .dropped(problem)
        }
        if let instances, instances.width != label.width || instances.height != label.height {
            try photo.checkDecodes()
            return .dropped(.instanceSizeMismatch(
                instanceWidth: instances.width, instanceHeight: instances.height,
                labelWidth: label.width, labelHeight: label.height))
        }
        if let filtered = filter.verdict(for: histogram, pixelCount: label.pixelCount) {
            try photo.checkDecodes()
            return .dropped(filtered)
        }
        let resize = split == .train ? trainResize ?? self.resize : self.resize
        let resized = try resize.apply(photo: photo, label: label, remap: remap, scratch: scratch)
        var sample = PreparedSample(
            stem: stem, flatStem: PreparedLayout.flatStem(stem, droppingSplitFolder: dropsSplitFolder), split: split,
            photo: resized.photo, label: resized.label,
            parts: ClassSplit.parts(of: resized.label, classCount: classCount),
            sourceHistogram: histogram)
        sample.instances = instances.map { resize.apply(instances: $0) }
        return .kept(sample)
    }
}
