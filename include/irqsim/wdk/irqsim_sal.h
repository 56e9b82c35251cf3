/**
 * @file
 * @brief Empty definitions of the SAL annotations WDK driver sources commonly use, so that
 *        annotated code compiles with gcc and clang. They carry no checking.
 */
#ifndef IRQSIM_WDK_SAL_H
#define IRQSIM_WDK_SAL_H

/** @cond SAL */
#define _In_
#define _In_opt_
#define _Out_
#define _Out_opt_
#define _Inout_
#define _Inout_opt_
#define _Outptr_
#define _Outptr_result_maybenull_
#define _Use_decl_annotations_
#define _Must_inspect_result_
#define _Success_(expr)
#define _Function_class_(name)
#define _IRQL_requires_(irql)
#define _IRQL_requires_max_(irql)
#define _IRQL_requires_min_(irql)
#define _IRQL_requires_same_
#define _IRQL_raises_(irql)
#define _IRQL_saves_
#define _IRQL_restores_
#define _IRQL_saves_global_(kind, param)
#define _IRQL_restores_global_(kind, param)
#define _IRQL_always_function_min_(irql)
#define _IRQL_always_function_max_(irql)
#define _Requires_lock_held_(lock)
#define _Requires_lock_not_held_(lock)
#define _Acquires_lock_(lock)
#define _Releases_lock_(lock)
#define _Acquires_exclusive_lock_(lock)
#define _Releases_exclusive_lock_(lock)
#define _Post_same_lock_(a, b)
#define _Kernel_requires_resource_held_(res)
#define _At_(target, annotation)
#define _When_(cond, annotation)
/** @endcond */

#endif /* IRQSIM_WDK_SAL_H */
