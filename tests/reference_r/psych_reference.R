# Reference values from R's psych package for tests/test_research_psych.py.
# Regenerate (needs R with psych and GPArotation, e.g. Debian r-cran-psych r-cran-gparotation):
#   cd tests/reference_r && Rscript psych_reference.R
# Writes psych_<dataset>_{total,items,drop,extra}.csv for items_complete.csv and items_missing.csv.
suppressPackageStartupMessages({library(psych); library(GPArotation)})
options(digits = 15)
keys <- c(1, 1, -1, 1, 1)  # i3 is reverse keyed on a 1-4 scale
for (name in c("complete", "missing")) {
  x <- read.csv(sprintf("items_%s.csv", name), na.strings = "NA")
  a <- alpha(x, keys = keys, warnings = FALSE)
  n.obs <- nrow(x)
  ci <- alpha.ci(a$total$raw_alpha, n.obs = n.obs, n.var = ncol(x), p.val = 0.05)
  total <- data.frame(a$total, feldt_lo = ci$lower.ci, feldt_hi = ci$upper.ci, n_obs = n.obs)
  write.csv(total, sprintf("psych_%s_total.csv", name), row.names = FALSE)
  write.csv(data.frame(item = colnames(x), a$item.stats, check.names = FALSE),
            sprintf("psych_%s_items.csv", name), row.names = FALSE)
  write.csv(data.frame(item = colnames(x), a$alpha.drop, check.names = FALSE),
            sprintf("psych_%s_drop.csv", name), row.names = FALSE)
  xk <- x
  xk[, 3] <- 5 - xk[, 3]
  C <- cov(xk, use = "pairwise")
  R <- cov2cor(C)  # as alpha() does: pairwise covariances scaled by each item's own SD
  om <- suppressWarnings(suppressMessages(omega(R, nfactors = 1, fm = "minres", plot = FALSE, n.obs = n.obs)))
  # splitHalf enumerates choose(k, k/2)/2 splits: exact for an even k only, so use items 1-4
  sh_r <- splitHalf(R[1:4, 1:4], covar = FALSE)
  sh_c <- splitHalf(C[1:4, 1:4], covar = TRUE)
  f1 <- fa(R, nfactors = 1, fm = "minres", n.obs = n.obs)
  extra <- data.frame(
    omega_tot = om$omega.tot, omega_g6 = om$G6,
    split_max_r = sh_r$maxrb, split_min_r = sh_r$minrb, split_mean_r = sh_r$meanr,
    split_max_c = sh_c$maxrb, split_min_c = sh_c$minrb, split_mean_c = sh_c$meanr
  )
  write.csv(extra, sprintf("psych_%s_extra.csv", name), row.names = FALSE)
  write.csv(data.frame(item = colnames(x), loading = as.numeric(f1$loadings[, 1])),
            sprintf("psych_%s_fa1.csv", name), row.names = FALSE)
}
# Feldt, Woodruff & Salih (1987) example used in a docstring: alpha .79, 26 items, 41 examinees, 90 %
ci <- alpha.ci(0.79, n.obs = 41, n.var = 26, p.val = 0.10)
write.csv(data.frame(lower = ci$lower.ci, upper = ci$upper.ci), "psych_feldt_example.csv", row.names = FALSE)
# Mantel-Haenszel reference: base R mantelhaen.test on a 2 x 2 x K table (see test_research_dif.py)
mh <- read.csv("mh_strata.csv")
tab <- xtabs(count ~ group + correct + stratum, data = mh)
t <- mantelhaen.test(tab, correct = TRUE)
write.csv(data.frame(statistic = unname(t$statistic), p_value = t$p.value, odds_ratio = unname(t$estimate)),
          "mh_reference.csv", row.names = FALSE)
# Two-factor minres solution and R's varimax / promax rotations of it (test_research_factor.py)
y <- read.csv("two_factor.csv")
f2 <- fa(cor(y), nfactors = 2, fm = "minres", rotate = "none", n.obs = nrow(y))
L <- unclass(f2$loadings)
vm <- varimax(L)
pm <- promax(L)
U <- pm$rotmat
write.csv(data.frame(L, check.names = FALSE), "two_factor_unrotated.csv", row.names = FALSE)
write.csv(data.frame(unclass(vm$loadings)), "two_factor_varimax.csv", row.names = FALSE)
write.csv(data.frame(unclass(pm$loadings)), "two_factor_promax.csv", row.names = FALSE)
write.csv(data.frame(solve(t(U) %*% U)), "two_factor_promax_phi.csv", row.names = FALSE)
write.csv(data.frame(uniq = f2$uniquenesses), "two_factor_uniquenesses.csv", row.names = FALSE)
