/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * <pss/processsnapshot.h>: the Windows Process Snapshotting API
 * (PssCaptureSnapshot and friends) on Linux, over libpss. Link with
 * -lpsswin (pkg-config libpsswin). See pss_windows(3).
 *
 * The names, enum values and struct layouts are those of the Windows SDK's
 * processsnapshot.h, so code written against it builds unchanged; what
 * differs on Linux:
 * - A process HANDLE is a pidfd: (HANDLE)(intptr_t)pidfd_open(pid, 0).
 *   GetCurrentProcess() is the pseudo-handle (HANDLE)-1: the caller itself.
 * - wchar_t is Linux's 32-bit wchar_t (UTF-32): strings work with wcslen(),
 *   wprintf("%ls"), ...; *Length fields are in bytes, as on Windows, and
 *   exclude the terminating L'\0'.
 * - CONTEXT is the x64 one. PSS_CAPTURE_THREAD_CONTEXT parks the target's
 *   threads for the capture (see pss_windows(3)); a thread the module could
 *   not hold has ContextRecord NULL. CONTEXT_DEBUG_REGISTERS and
 *   CONTEXT_XSTATE are never set in a record's ContextFlags: Linux has no
 *   debug-register regset, and the AVX state (libpss's
 *   pss_context_entry_xstate()) is not put in a CONTEXT_EX.
 * Define PSS_NO_WIN32_TYPES if another header already supplies the base
 * Win32 types (DWORD, HANDLE, FILETIME, ...) and error codes.
 */
#ifndef PSS_PROCESSSNAPSHOT_H
#define PSS_PROCESSSNAPSHOT_H

/* PSS_WALK_THREADS, _HANDLES and _VA_SPACE differ from libpss's */
#if defined(_UAPI_LINUX_PSS_H) && !defined(PSS_LIBPSS_NATIVE_H)
#error "with <libpss.h>, include <pss/libpss_native.h> instead of it"
#endif

#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef PSS_NO_WIN32_TYPES
/* LP64: a Windows DWORD/LONG is 32 bits, never Linux's long */
typedef uint8_t BYTE;
typedef uint16_t WORD;
typedef uint32_t DWORD;
typedef int32_t LONG;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef uint64_t DWORD64;
typedef uint64_t UINT64;
typedef int BOOL;
typedef uintptr_t ULONG_PTR;
typedef uintptr_t SIZE_T;
typedef void *PVOID;
typedef void *HANDLE;

typedef struct _FILETIME {
	DWORD dwLowDateTime;	/* 100 ns intervals since 1601-01-01 UTC */
	DWORD dwHighDateTime;
} FILETIME;

typedef union _LARGE_INTEGER {
	__extension__ struct {
		DWORD LowPart;
		LONG HighPart;
	};
	struct {
		DWORD LowPart;
		LONG HighPart;
	} u;
	LONGLONG QuadPart;
} LARGE_INTEGER;

typedef struct _MEMORY_BASIC_INFORMATION {
	PVOID BaseAddress;
	PVOID AllocationBase;
	DWORD AllocationProtect;
	WORD PartitionId;
	SIZE_T RegionSize;
	DWORD State;
	DWORD Protect;
	DWORD Type;
} MEMORY_BASIC_INFORMATION;

/* x64 thread context (winnt.h), as PSS_THREAD_ENTRY.ContextRecord holds it */
#define CONTEXT_AMD64		0x00100000
#define CONTEXT_CONTROL		(CONTEXT_AMD64 | 0x01)	/* Rip Rsp EFlags Cs Ss */
#define CONTEXT_INTEGER		(CONTEXT_AMD64 | 0x02)	/* Rax..R15 */
#define CONTEXT_SEGMENTS	(CONTEXT_AMD64 | 0x04)	/* Ds Es Fs Gs */
#define CONTEXT_FLOATING_POINT	(CONTEXT_AMD64 | 0x08)	/* FltSave, MxCsr */
#define CONTEXT_DEBUG_REGISTERS	(CONTEXT_AMD64 | 0x10)
#define CONTEXT_FULL		(CONTEXT_CONTROL | CONTEXT_INTEGER | \
				 CONTEXT_FLOATING_POINT)
#define CONTEXT_ALL		(CONTEXT_FULL | CONTEXT_SEGMENTS | \
				 CONTEXT_DEBUG_REGISTERS)
#define CONTEXT_XSTATE		(CONTEXT_AMD64 | 0x40)

typedef struct _M128A {
	ULONGLONG Low;
	LONGLONG High;
} __attribute__((aligned(16))) M128A, *PM128A;

/* the FXSAVE image: NT_PRFPREG's struct user_fpregs_struct too */
typedef struct _XSAVE_FORMAT {
	WORD ControlWord;
	WORD StatusWord;
	BYTE TagWord;
	BYTE Reserved1;
	WORD ErrorOpcode;
	DWORD ErrorOffset;
	WORD ErrorSelector;
	WORD Reserved2;
	DWORD DataOffset;
	WORD DataSelector;
	WORD Reserved3;
	DWORD MxCsr;
	DWORD MxCsr_Mask;
	M128A FloatRegisters[8];
	M128A XmmRegisters[16];
	BYTE Reserved4[96];
} XSAVE_FORMAT, XMM_SAVE_AREA32, *PXMM_SAVE_AREA32;

typedef struct _CONTEXT {
	DWORD64 P1Home, P2Home, P3Home, P4Home, P5Home, P6Home;
	DWORD ContextFlags;	/* CONTEXT_*: which parts below are valid */
	DWORD MxCsr;
	WORD SegCs, SegDs, SegEs, SegFs, SegGs, SegSs;
	DWORD EFlags;
	DWORD64 Dr0, Dr1, Dr2, Dr3, Dr6, Dr7;
	DWORD64 Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi;
	DWORD64 R8, R9, R10, R11, R12, R13, R14, R15;
	DWORD64 Rip;
	union {
		XMM_SAVE_AREA32 FltSave;
		__extension__ struct {
			M128A Header[2];
			M128A Legacy[8];
			M128A Xmm0, Xmm1, Xmm2, Xmm3, Xmm4, Xmm5, Xmm6, Xmm7;
			M128A Xmm8, Xmm9, Xmm10, Xmm11, Xmm12, Xmm13, Xmm14, Xmm15;
		};
	};
	M128A VectorRegister[26];
	DWORD64 VectorControl;
	DWORD64 DebugControl;
	DWORD64 LastBranchToRip;
	DWORD64 LastBranchFromRip;
	DWORD64 LastExceptionToRip;
	DWORD64 LastExceptionFromRip;
} __attribute__((aligned(16))) CONTEXT, *PCONTEXT;

#ifndef WINAPI
#define WINAPI
#endif
#ifndef MAX_PATH
#define MAX_PATH		260
#endif

/* Win32 error codes (winerror.h values) */
#define ERROR_SUCCESS		0
#define ERROR_ACCESS_DENIED	5
#define ERROR_INVALID_HANDLE	6
#define ERROR_NOT_ENOUGH_MEMORY	8
#define ERROR_BAD_LENGTH	24
#define ERROR_GEN_FAILURE	31
#define ERROR_NOT_SUPPORTED	50
#define ERROR_INVALID_PARAMETER	87
#define ERROR_MORE_DATA		234
#define ERROR_NO_MORE_ITEMS	259
#define ERROR_NOT_FOUND		1168
#define ERROR_RETRY		1237

#define STILL_ACTIVE		259	/* ExitStatus of a live thread/process */

/* MEMORY_BASIC_INFORMATION.Protect and friends */
#define PAGE_NOACCESS		0x01
#define PAGE_READONLY		0x02
#define PAGE_READWRITE		0x04
#define PAGE_WRITECOPY		0x08
#define PAGE_EXECUTE		0x10
#define PAGE_EXECUTE_READ	0x20
#define PAGE_EXECUTE_READWRITE	0x40
#define PAGE_EXECUTE_WRITECOPY	0x80
#define PAGE_GUARD		0x100
#define PAGE_NOCACHE		0x200
#define PAGE_WRITECOMBINE	0x400

/* .State */
#define MEM_COMMIT		0x1000
#define MEM_RESERVE		0x2000
#define MEM_FREE		0x10000
/* .Type */
#define MEM_PRIVATE		0x20000
#define MEM_MAPPED		0x40000
#define MEM_IMAGE		0x1000000

/* PSS_PROCESS_INFORMATION.PriorityClass */
#define NORMAL_PRIORITY_CLASS		0x00000020
#define IDLE_PRIORITY_CLASS		0x00000040
#define HIGH_PRIORITY_CLASS		0x00000080
#define REALTIME_PRIORITY_CLASS		0x00000100
#define BELOW_NORMAL_PRIORITY_CLASS	0x00004000
#define ABOVE_NORMAL_PRIORITY_CLASS	0x00008000

/* PSS_HANDLE_ENTRY.Attributes */
#define OBJ_INHERIT		0x00000002

/* PSS_HANDLE_ENTRY.GrantedAccess, for File objects */
#define FILE_READ_DATA		0x0001
#define FILE_WRITE_DATA		0x0002
#define FILE_APPEND_DATA	0x0004

/* the pseudo-handle of the calling process */
static inline HANDLE GetCurrentProcess(void)
{
	return (HANDLE)(intptr_t)-1;
}
#endif /* PSS_NO_WIN32_TYPES */

#ifndef PSS_API
#define PSS_API __attribute__((visibility("default")))
#endif

typedef enum {
	PSS_HANDLE_NONE				= 0x00,
	PSS_HANDLE_HAVE_TYPE			= 0x01,
	PSS_HANDLE_HAVE_NAME			= 0x02,
	PSS_HANDLE_HAVE_BASIC_INFORMATION	= 0x04,
	PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION = 0x08,
} PSS_HANDLE_FLAGS;

typedef enum {
	PSS_OBJECT_TYPE_UNKNOWN		= 0,
	PSS_OBJECT_TYPE_PROCESS		= 1,
	PSS_OBJECT_TYPE_THREAD		= 2,
	PSS_OBJECT_TYPE_MUTANT		= 3,
	PSS_OBJECT_TYPE_EVENT		= 4,
	PSS_OBJECT_TYPE_SECTION		= 5,
	PSS_OBJECT_TYPE_SEMAPHORE	= 6,
} PSS_OBJECT_TYPE;

/*
 * Bit 31 (PSS_CREATE_RELEASE_SECTION) makes the enum's type unsigned int,
 * as in the SDK, so the values are the Windows ones on both sides.
 */
typedef enum {
	PSS_CAPTURE_NONE			= 0x00000000,
	PSS_CAPTURE_VA_CLONE			= 0x00000001,
	PSS_CAPTURE_RESERVED_00000002		= 0x00000002,
	PSS_CAPTURE_HANDLES			= 0x00000004,
	PSS_CAPTURE_HANDLE_NAME_INFORMATION	= 0x00000008,
	PSS_CAPTURE_HANDLE_BASIC_INFORMATION	= 0x00000010,
	PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION = 0x00000020,
	PSS_CAPTURE_HANDLE_TRACE		= 0x00000040,
	PSS_CAPTURE_THREADS			= 0x00000080,
	PSS_CAPTURE_THREAD_CONTEXT		= 0x00000100,
	PSS_CAPTURE_THREAD_CONTEXT_EXTENDED	= 0x00000200,
	PSS_CAPTURE_RESERVED_00000400		= 0x00000400,
	PSS_CAPTURE_VA_SPACE			= 0x00000800,
	PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION = 0x00001000,
	PSS_CAPTURE_IPT_TRACE			= 0x00002000,
	PSS_CAPTURE_RESERVED_00004000		= 0x00004000,
	PSS_CREATE_BREAKAWAY_OPTIONAL		= 0x04000000,
	PSS_CREATE_BREAKAWAY			= 0x08000000,
	PSS_CREATE_FORCE_BREAKAWAY		= 0x10000000,
	PSS_CREATE_USE_VM_ALLOCATIONS		= 0x20000000,
	PSS_CREATE_MEASURE_PERFORMANCE		= 0x40000000,
	PSS_CREATE_RELEASE_SECTION		= 0x80000000u,
} PSS_CAPTURE_FLAGS;

/* PSS_PERFORMANCE_COUNTERS' *WallClockPeriod unit: 1/1000000 s */
#define PSS_PERF_RESOLUTION	1000000

typedef enum {
	PSS_QUERY_PROCESS_INFORMATION		= 0,
	PSS_QUERY_VA_CLONE_INFORMATION		= 1,
	PSS_QUERY_AUXILIARY_PAGES_INFORMATION	= 2,
	PSS_QUERY_VA_SPACE_INFORMATION		= 3,
	PSS_QUERY_HANDLE_INFORMATION		= 4,
	PSS_QUERY_THREAD_INFORMATION		= 5,
	PSS_QUERY_HANDLE_TRACE_INFORMATION	= 6,
	PSS_QUERY_PERFORMANCE_COUNTERS		= 7,
} PSS_QUERY_INFORMATION_CLASS;

typedef enum {
	PSS_WALK_AUXILIARY_PAGES	= 0,
	PSS_WALK_VA_SPACE		= 1,
	PSS_WALK_HANDLES		= 2,
	PSS_WALK_THREADS		= 3,
	PSS_WALK_THREAD_NAME		= 4,
} PSS_WALK_INFORMATION_CLASS;

typedef enum {
	PSS_DUPLICATE_NONE		= 0x00,
	PSS_DUPLICATE_CLOSE_SOURCE	= 0x01,
} PSS_DUPLICATE_FLAGS;

#ifdef __cplusplus
/* flag enums combine with | & ^ ~ in C++ too (the SDK's DEFINE_ENUM_FLAG_OPERATORS) */
#define PSS_ENUM_FLAG_OPERATORS(T)					\
	extern "C++" {							\
	inline T operator|(T a, T b) { return T((unsigned int)a | (unsigned int)b); } \
	inline T operator&(T a, T b) { return T((unsigned int)a & (unsigned int)b); } \
	inline T operator^(T a, T b) { return T((unsigned int)a ^ (unsigned int)b); } \
	inline T operator~(T a) { return T(~(unsigned int)a); }		\
	inline T &operator|=(T &a, T b) { return a = a | b; }		\
	inline T &operator&=(T &a, T b) { return a = a & b; }		\
	inline T &operator^=(T &a, T b) { return a = a ^ b; }		\
	}
PSS_ENUM_FLAG_OPERATORS(PSS_HANDLE_FLAGS)
PSS_ENUM_FLAG_OPERATORS(PSS_CAPTURE_FLAGS)
PSS_ENUM_FLAG_OPERATORS(PSS_DUPLICATE_FLAGS)
#endif

/* opaque handles, as the SDK's DECLARE_HANDLE makes them */
typedef struct HPSS__ { int unused; } *HPSS;
typedef struct HPSSWALK__ { int unused; } *HPSSWALK;

typedef enum {
	PSS_PROCESS_FLAGS_NONE		= 0x00000000,
	PSS_PROCESS_FLAGS_PROTECTED	= 0x00000001,
	PSS_PROCESS_FLAGS_WOW64		= 0x00000002,
	PSS_PROCESS_FLAGS_RESERVED_03	= 0x00000004,
	PSS_PROCESS_FLAGS_RESERVED_04	= 0x00000008,
	PSS_PROCESS_FLAGS_FROZEN	= 0x00000010,
} PSS_PROCESS_FLAGS;
#ifdef __cplusplus
PSS_ENUM_FLAG_OPERATORS(PSS_PROCESS_FLAGS)
#endif

typedef struct {
	DWORD ExitStatus;
	void *PebBaseAddress;
	ULONG_PTR AffinityMask;
	LONG BasePriority;
	DWORD ProcessId;
	DWORD ParentProcessId;
	PSS_PROCESS_FLAGS Flags;
	FILETIME CreateTime;
	FILETIME ExitTime;
	FILETIME KernelTime;
	FILETIME UserTime;
	DWORD PriorityClass;
	ULONG_PTR PeakVirtualSize;
	ULONG_PTR VirtualSize;
	DWORD PageFaultCount;
	ULONG_PTR PeakWorkingSetSize;
	ULONG_PTR WorkingSetSize;
	ULONG_PTR QuotaPeakPagedPoolUsage;
	ULONG_PTR QuotaPagedPoolUsage;
	ULONG_PTR QuotaPeakNonPagedPoolUsage;
	ULONG_PTR QuotaNonPagedPoolUsage;
	ULONG_PTR PagefileUsage;
	ULONG_PTR PeakPagefileUsage;
	ULONG_PTR PrivateUsage;
	DWORD ExecuteFlags;
	wchar_t ImageFileName[MAX_PATH];
} PSS_PROCESS_INFORMATION;

typedef struct {
	HANDLE VaCloneHandle;
} PSS_VA_CLONE_INFORMATION;

typedef struct {
	DWORD AuxPagesCaptured;
} PSS_AUXILIARY_PAGES_INFORMATION;

typedef struct {
	DWORD RegionCount;
} PSS_VA_SPACE_INFORMATION;

typedef struct {
	DWORD HandlesCaptured;
} PSS_HANDLE_INFORMATION;

typedef struct {
	DWORD ThreadsCaptured;
	DWORD ContextLength;
} PSS_THREAD_INFORMATION;

typedef struct {
	HANDLE SectionHandle;
	DWORD Size;
} PSS_HANDLE_TRACE_INFORMATION;

typedef struct {
	UINT64 TotalCycleCount;
	UINT64 TotalWallClockPeriod;
	UINT64 VaCloneCycleCount;
	UINT64 VaCloneWallClockPeriod;
	UINT64 VaSpaceCycleCount;
	UINT64 VaSpaceWallClockPeriod;
	UINT64 AuxPagesCycleCount;
	UINT64 AuxPagesWallClockPeriod;
	UINT64 HandlesCycleCount;
	UINT64 HandlesWallClockPeriod;
	UINT64 ThreadsCycleCount;
	UINT64 ThreadsWallClockPeriod;
} PSS_PERFORMANCE_COUNTERS;

typedef struct {
	void *Address;
	MEMORY_BASIC_INFORMATION BasicInformation;
	FILETIME CaptureTime;
	void *PageContents;
	DWORD PageSize;
} PSS_AUXILIARY_PAGE_ENTRY;

typedef struct {
	void *BaseAddress;
	void *AllocationBase;
	DWORD AllocationProtect;
	ULONG_PTR RegionSize;
	DWORD State;
	DWORD Protect;
	DWORD Type;
	DWORD TimeDateStamp;
	DWORD SizeOfImage;
	void *ImageBase;
	DWORD CheckSum;
	WORD MappedFileNameLength;
	const wchar_t *MappedFileName;
} PSS_VA_SPACE_ENTRY;

typedef struct {
	HANDLE Handle;
	PSS_HANDLE_FLAGS Flags;
	PSS_OBJECT_TYPE ObjectType;
	FILETIME CaptureTime;
	DWORD Attributes;
	DWORD GrantedAccess;
	DWORD HandleCount;
	DWORD PointerCount;
	DWORD PagedPoolCharge;
	DWORD NonPagedPoolCharge;
	FILETIME CreationTime;
	WORD TypeNameLength;
	const wchar_t *TypeName;
	WORD ObjectNameLength;
	const wchar_t *ObjectName;
	union {
		struct {
			DWORD ExitStatus;
			void *PebBaseAddress;
			ULONG_PTR AffinityMask;
			LONG BasePriority;
			DWORD ProcessId;
			DWORD ParentProcessId;
			DWORD Flags;
		} Process;
		struct {
			DWORD ExitStatus;
			void *TebBaseAddress;
			DWORD ProcessId;
			DWORD ThreadId;
			ULONG_PTR AffinityMask;
			int Priority;
			int BasePriority;
			void *Win32StartAddress;
		} Thread;
		struct {
			LONG CurrentCount;
			BOOL Abandoned;
			DWORD OwnerProcessId;
			DWORD OwnerThreadId;
		} Mutant;
		struct {
			BOOL ManualReset;
			BOOL Signaled;
		} Event;
		struct {
			void *BaseAddress;
			DWORD AllocationAttributes;
			LARGE_INTEGER MaximumSize;
		} Section;
		struct {
			LONG CurrentCount;
			LONG MaximumCount;
		} Semaphore;
	} TypeSpecificInformation;
} PSS_HANDLE_ENTRY;

typedef enum {
	PSS_THREAD_FLAGS_NONE		= 0x0000,
	PSS_THREAD_FLAGS_TERMINATED	= 0x0001,
} PSS_THREAD_FLAGS;
#ifdef __cplusplus
PSS_ENUM_FLAG_OPERATORS(PSS_THREAD_FLAGS)
#endif

typedef struct {
	DWORD ExitStatus;
	void *TebBaseAddress;
	DWORD ProcessId;
	DWORD ThreadId;
	ULONG_PTR AffinityMask;
	int Priority;
	int BasePriority;
	void *LastSyscallFirstArgument;
	WORD LastSyscallNumber;
	FILETIME CreateTime;
	FILETIME ExitTime;
	FILETIME KernelTime;
	FILETIME UserTime;
	void *Win32StartAddress;
	FILETIME CaptureTime;
	PSS_THREAD_FLAGS Flags;
	WORD SuspendCount;
	WORD SizeOfContextRecord;
	PCONTEXT ContextRecord;
} PSS_THREAD_ENTRY;

/* PSS_WALK_THREAD_NAME: one per thread, in PSS_WALK_THREADS' order */
typedef struct {
	WORD ThreadNameSize;
	const wchar_t *ThreadName;
} PSS_THREAD_NAME;

typedef struct {
	void *Context;
	void *(WINAPI *AllocRoutine)(void *Context, DWORD Size);
	void (WINAPI *FreeRoutine)(void *Context, void *Address);
} PSS_ALLOCATOR;

PSS_API DWORD PssCaptureSnapshot(HANDLE ProcessHandle,
				 PSS_CAPTURE_FLAGS CaptureFlags,
				 DWORD ThreadContextFlags, HPSS *SnapshotHandle);
PSS_API DWORD PssFreeSnapshot(HANDLE ProcessHandle, HPSS SnapshotHandle);
PSS_API DWORD PssQuerySnapshot(HPSS SnapshotHandle,
			       PSS_QUERY_INFORMATION_CLASS InformationClass,
			       void *Buffer, DWORD BufferLength);
PSS_API DWORD PssWalkSnapshot(HPSS SnapshotHandle,
			      PSS_WALK_INFORMATION_CLASS InformationClass,
			      HPSSWALK WalkMarkerHandle, void *Buffer,
			      DWORD BufferLength);
PSS_API DWORD PssDuplicateSnapshot(HANDLE SourceProcessHandle,
				   HPSS SnapshotHandle,
				   HANDLE TargetProcessHandle,
				   HPSS *TargetSnapshotHandle,
				   PSS_DUPLICATE_FLAGS Flags);
PSS_API DWORD PssWalkMarkerCreate(const PSS_ALLOCATOR *Allocator,
				  HPSSWALK *WalkMarkerHandle);
PSS_API DWORD PssWalkMarkerFree(HPSSWALK WalkMarkerHandle);
PSS_API DWORD PssWalkMarkerGetPosition(HPSSWALK WalkMarkerHandle,
				       ULONG_PTR *Position);
PSS_API DWORD PssWalkMarkerSetPosition(HPSSWALK WalkMarkerHandle,
				       ULONG_PTR Position);
PSS_API DWORD PssWalkMarkerSeekToBeginning(HPSSWALK WalkMarkerHandle);

/*
 * Linux extension: the pss snapshot fd behind a snapshot handle (>= 0, still
 * owned by the handle: dup it to keep it; libpss's pss_snapshot_from_fd()
 * adopts a dup), or -EINVAL for an invalid handle.
 */
PSS_API int pss_win_snapshot_fd(HPSS SnapshotHandle);

#ifdef __cplusplus
}
#endif

#endif /* PSS_PROCESSSNAPSHOT_H */
