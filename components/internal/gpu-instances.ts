/**
 * What modelship knows about EC2 GPU instance types and the EKS AMI types that drive them. A small table, not an API
 * call, so that a wrong instance type or AMI fails at construction, before `pulumi up` spends minutes on a node group
 * that never joins. Pure: no Pulumi calls.
 */

export type CpuArchitecture = "x86_64" | "arm64";

/** One EC2 family with NVIDIA GPUs. */
export interface GpuFamily {
    /** CPU architecture of the family; the AMI type must match it. */
    arch: CpuArchitecture;
    /** The GPU model, as the `modelship.dev/gpu-model` label writes it. */
    accelerator: string;
    /** GPUs per instance, by size. Sizes not listed need `gpusPerNode` set explicitly. */
    gpusBySize: Record<string, number>;
}

const ONE_TO_SIXTEEN = { xlarge: 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 1 };

/** NVIDIA GPU families and their GPU count per size (from the EC2 accelerated-computing instance specifications). */
export const GPU_FAMILIES: Readonly<Record<string, GpuFamily>> = {
    g4dn: { arch: "x86_64", accelerator: "nvidia-t4", gpusBySize: { ...ONE_TO_SIXTEEN, "12xlarge": 4, metal: 8 } },
    g5: { arch: "x86_64", accelerator: "nvidia-a10g", gpusBySize: { ...ONE_TO_SIXTEEN, "12xlarge": 4, "24xlarge": 4, "48xlarge": 8 } },
    g5g: { arch: "arm64", accelerator: "nvidia-t4g", gpusBySize: { xlarge: 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 2, metal: 2 } },
    g6: { arch: "x86_64", accelerator: "nvidia-l4", gpusBySize: { ...ONE_TO_SIXTEEN, "12xlarge": 4, "24xlarge": 4, "48xlarge": 8 } },
    gr6: { arch: "x86_64", accelerator: "nvidia-l4", gpusBySize: { "4xlarge": 1, "8xlarge": 1 } },
    g6e: { arch: "x86_64", accelerator: "nvidia-l40s", gpusBySize: { ...ONE_TO_SIXTEEN, "12xlarge": 4, "24xlarge": 4, "48xlarge": 8 } },
    p3: { arch: "x86_64", accelerator: "nvidia-v100", gpusBySize: { "2xlarge": 1, "8xlarge": 4, "16xlarge": 8 } },
    p3dn: { arch: "x86_64", accelerator: "nvidia-v100", gpusBySize: { "24xlarge": 8 } },
    p4d: { arch: "x86_64", accelerator: "nvidia-a100", gpusBySize: { "24xlarge": 8 } },
    p4de: { arch: "x86_64", accelerator: "nvidia-a100", gpusBySize: { "24xlarge": 8 } },
    p5: { arch: "x86_64", accelerator: "nvidia-h100", gpusBySize: { "4xlarge": 1, "48xlarge": 8 } },
    p5e: { arch: "x86_64", accelerator: "nvidia-h200", gpusBySize: { "48xlarge": 8 } },
    p5en: { arch: "x86_64", accelerator: "nvidia-h200", gpusBySize: { "48xlarge": 8 } },
};

/** NVIDIA families newer than the table: refused with a message that says so, not "has no NVIDIA GPU". */
const NEWER_NVIDIA_FAMILIES: readonly string[] = ["g6f", "gr6f", "g7e", "p6-b200", "p6e-gb200"];

/** Accelerated families that are not NVIDIA: named so that the error can say why they are refused. */
const NON_NVIDIA_ACCELERATORS: Readonly<Record<string, string>> = {
    g4ad: "AMD Radeon GPUs",
    inf1: "AWS Inferentia chips",
    inf2: "AWS Inferentia2 chips",
    trn1: "AWS Trainium chips",
    trn1n: "AWS Trainium chips",
    trn2: "AWS Trainium2 chips",
    dl1: "Habana Gaudi accelerators",
    dl2q: "Qualcomm AI 100 accelerators",
    f1: "FPGAs",
    f2: "FPGAs",
    vt1: "Xilinx media accelerators",
};

const INSTANCE_TYPE = /^([a-z][a-z0-9-]*)\.([a-z0-9-]+)$/;
const INSTANCE_SIZE = /^(nano|micro|small|medium|large|xlarge|\d+xlarge|metal(-\d+xl)?)$/;

/** Splits `g5.2xlarge` into family and size; undefined when it does not look like an EC2 instance type. */
export function parseInstanceType(instanceType: string): { family: string; size: string } | undefined {
    const m = INSTANCE_TYPE.exec(instanceType);
    if (!m || !INSTANCE_SIZE.test(m[2])) return undefined;
    return { family: m[1], size: m[2] };
}

/** What an instance type offers, or a sentence saying why it is not an NVIDIA GPU instance. */
export type GpuInstanceInfo =
    | { ok: true; family: string; size: string; arch: CpuArchitecture; accelerator: string; gpus: number | undefined }
    | { ok: false; reason: string };

/** Looks an instance type up in {@link GPU_FAMILIES}. `gpus` is undefined for a size the table does not list. */
export function gpuInstanceInfo(instanceType: string): GpuInstanceInfo {
    const parsed = parseInstanceType(instanceType);
    if (!parsed) return { ok: false, reason: `"${instanceType}" is not an EC2 instance type such as "g6.xlarge"` };
    const family = GPU_FAMILIES[parsed.family];
    if (!family) {
        const other = NON_NVIDIA_ACCELERATORS[parsed.family];
        if (NEWER_NVIDIA_FAMILIES.includes(parsed.family)) {
            return { ok: false, reason: `"${instanceType}" has NVIDIA GPUs modelship does not support yet (no AMI and GPU-count data for it): use ${Object.keys(GPU_FAMILIES).join(", ")}` };
        }
        const why = other ? `has ${other}, not NVIDIA GPUs` : "has no NVIDIA GPU";
        return { ok: false, reason: `"${instanceType}" ${why}: use a GPU family such as ${Object.keys(GPU_FAMILIES).join(", ")}` };
    }
    return { ok: true, family: parsed.family, size: parsed.size, arch: family.arch, accelerator: family.accelerator, gpus: family.gpusBySize[parsed.size] };
}

/** EKS AMI types that ship NVIDIA drivers, with their architecture and OS family. */
export const GPU_AMI_TYPES = {
    AL2023_x86_64_NVIDIA: { arch: "x86_64", os: "al2023" },
    AL2023_ARM_64_NVIDIA: { arch: "arm64", os: "al2023" },
    BOTTLEROCKET_x86_64_NVIDIA: { arch: "x86_64", os: "bottlerocket" },
    BOTTLEROCKET_ARM_64_NVIDIA: { arch: "arm64", os: "bottlerocket" },
} as const satisfies Record<string, { arch: CpuArchitecture; os: NodeOsFamily }>;

export type GpuAmiType = keyof typeof GPU_AMI_TYPES;
export type NodeOsFamily = "al2023" | "bottlerocket";

/** Whether `value` is one of {@link GPU_AMI_TYPES}. */
export function isGpuAmiType(value: string): value is GpuAmiType {
    return Object.prototype.hasOwnProperty.call(GPU_AMI_TYPES, value);
}

/** The AMI type used when a GPU group names none: Amazon Linux 2023 with NVIDIA drivers, for the family's CPU. */
export function defaultGpuAmiType(arch: CpuArchitecture): GpuAmiType {
    return arch === "arm64" ? "AL2023_ARM_64_NVIDIA" : "AL2023_x86_64_NVIDIA";
}

/**
 * CPU architecture of a non-GPU instance type: Graviton families carry a `g` after the generation digit (m7g, c6gn,
 * t4g, r8gd). Used for the system node group, whose AMI type is derived from it.
 */
export function cpuArchitecture(instanceType: string): CpuArchitecture | undefined {
    const parsed = parseInstanceType(instanceType);
    if (!parsed) return undefined;
    // Graviton families carry a `g` after the generation (m7g, c6gn, r8g); a1 is the first-generation Graviton.
    return parsed.family === "a1" || /^[a-z]+\d+[a-z]*g[a-z]*(-flex)?$/.test(parsed.family) ? "arm64" : "x86_64";
}
