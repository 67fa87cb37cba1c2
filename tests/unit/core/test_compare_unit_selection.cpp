#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/error.hpp"
#include "compare/unit_selection.hpp"

using namespace lrm;
using namespace lrm::compare;

TEST(UnitSelection, ControlSpelling) {
  EXPECT_EQ(parse_units_control("random"), 1);
  EXPECT_EQ(parse_units_control("random:12"), 12);
  for (const char* bad :
       {"shuffle", "random:0", "random:", "random:x", "random:-1", "random:9999999"})
    EXPECT_THROW(parse_units_control(bad), SettingError) << bad;
}

TEST(UnitSelection, RandomUnitsAreSeededSizeMatchedAndAscending) {
  const auto a = random_units(500, 40, 7, 0);
  ASSERT_EQ(a.size(), 40u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::set<Eigen::Index>(a.begin(), a.end()).size(), a.size());
  EXPECT_GE(a.front(), 0);
  EXPECT_LT(a.back(), 500);
  EXPECT_EQ(random_units(500, 40, 7, 0), a);  // the same seed and draw: the same set
  EXPECT_NE(random_units(500, 40, 7, 1), a);  // another draw
  EXPECT_NE(random_units(500, 40, 8, 0), a);  // another seed
  EXPECT_EQ(random_units(10, 10, 1, 0).size(), 10u);
}

TEST(UnitSelection, RandomUnitsAreUniform) {
  // 3 of 10 units in each of 4000 draws: every unit is drawn 1200 times in expectation (sd 29).
  std::vector<int> count(10, 0);
  for (int d = 0; d < 4000; ++d)
    for (auto u : random_units(10, 3, 5, d)) ++count[static_cast<std::size_t>(u)];
  for (int c : count) EXPECT_NEAR(c, 1200, 150);
}

TEST(UnitSelection, SpecNamesItsParts) {
  EXPECT_THROW(read_localized_units("localizer.h5"), SettingError);
  EXPECT_THROW(read_localized_units("localizer.h5:conv/scene"), SettingError);
  EXPECT_THROW(read_localized_units("localizer.h5:conv/first/scene"), SettingError);
}
