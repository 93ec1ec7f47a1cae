// SPDX-License-Identifier: Apache-2.0
// sluice entry point (placeholder while the foundation lands).
print("sluice")
